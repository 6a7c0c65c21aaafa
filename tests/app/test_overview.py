"""The overview page through the test client: its figures, read from `data-value`, equal the
API's `GET /api/v1/metrics/nps` for the same filters; filters change them; no data and bad
filters give a clear page, never a 500; a viewer sees no edit control."""

from __future__ import annotations

import re

import pytest

from tests.answers import answer

FIGURE = re.compile(r'data-metric="([a-z_]+)" data-value="([^"]*)"')


def figures(page: str) -> dict[str, float | None]:
    return {k: None if v == "None" else float(v) for k, v in FIGURE.findall(page)}


@pytest.fixture
def survey_id(api):
    r = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    assert r.status_code == 201, r.json
    return r.json["id"]


@pytest.fixture
def answered(api, survey_id):
    """Answers in three quarters of 2026, two plans, and email and widget channels."""
    scores = {
        "2026-01-15T10:00:00Z": [10, 9, 9, 3, 7, 8, 10, 2],
        "2026-04-15T10:00:00Z": [10, 10, 9, 9, 9, 7, 6, 10],
        "2026-07-15T10:00:00Z": [1, 2, 3, 9, 10, 4, 5, 6, 7],
    }
    for when, row in scores.items():
        for i, score in enumerate(row):
            answer(
                api,
                survey_id,
                f"p{i}",
                score,
                when,
                channel="widget" if i % 3 == 0 else "api",
                properties={"plan": "pro" if i % 2 else "free", "mrr": 10 + i},
            )
    return survey_id


def api_nps(api, query: str) -> dict:
    r = api.get(f"/api/v1/metrics/nps?group_by=quarter&{query}")
    assert r.status_code == 200, r.json
    return r.json["buckets"][-1]


def test_the_overview_shows_the_api_figures_and_filters_change_them(team, owner, api, answered):
    team.sign_in(owner.email)
    r = team.get("/app/")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    shown = figures(page)
    expected = api_nps(api, "")
    assert expected["responses"] == 9
    for name in ("nps", "margin_of_error", "responses", "promoters_pct", "detractors_pct"):
        assert shown[name] == pytest.approx(expected[name]), name
    assert "2026-Q1" in page and "2026-Q3" in page
    assert '<svg class="chart trend"' in page and '<svg class="chart histogram"' in page
    assert "<table" in page

    filtered = figures(team.get("/app/?channel=widget").get_data(as_text=True))
    expected_widget = api_nps(api, "channel=widget")
    assert filtered["nps"] == pytest.approx(expected_widget["nps"])
    assert filtered["responses"] == expected_widget["responses"] == 3
    assert filtered["nps"] != shown["nps"]

    q2 = figures(team.get("/app/?period=2026-Q2").get_data(as_text=True))
    bucket = api.get("/api/v1/metrics/nps?group_by=quarter").json["buckets"][1]
    assert q2["nps"] == pytest.approx(bucket["nps"]) and q2["responses"] == 8

    weighted = figures(team.get(f"/app/?weight=mrr&survey={answered}").get_data(as_text=True))
    expected_weighted = api_nps(api, f"weight=property:mrr&survey_id={answered}")
    assert weighted["nps"] == pytest.approx(expected_weighted["nps"])
    assert weighted["margin_of_error"] == pytest.approx(expected_weighted["margin_of_error"])

    ranged = team.get("/app/?since=2026-01-01&until=2026-06-30&by=month").get_data(as_text=True)
    expected_ranged = api.get(
        "/api/v1/metrics/nps?group_by=month&since=2026-01-01T00:00:00Z&until=2026-07-01T00:00:00Z"
    ).json["buckets"][-1]
    assert figures(ranged)["nps"] == pytest.approx(expected_ranged["nps"])
    assert "2026-07" not in ranged


def test_compare_by_a_property_lists_its_values(team, owner, api, answered):
    team.sign_in(owner.email)
    page = team.get("/app/?compare=plan").get_data(as_text=True)
    by_plan = api.get("/api/v1/metrics/nps?group_by=property:plan").json["buckets"]
    assert "NPS by plan" in page
    for bucket in by_plan:
        assert f'<th scope="row">{bucket["key"]}</th><td>{bucket["nps"]:g}</td>' in page


def test_no_answers_yet_is_a_message_not_an_error(team, owner, survey_id):
    team.sign_in(owner.email)
    r = team.get("/app/")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "No answers yet" in page and "data-metric" not in page


@pytest.mark.parametrize(
    "query",
    [
        "by=year",
        "channel=fax",
        "since=2026-13-45",
        "survey=abc",
        "survey=0",
        "period=1999-Q1",
        "weight=a%22b",
        "compare=" + "x" * 200,
    ],
)
def test_bad_filters_give_a_clear_page(team, owner, answered, query):
    team.sign_in(owner.email)
    r = team.get(f"/app/?{query}")
    assert r.status_code == 422, query
    page = r.get_data(as_text=True)
    assert "These filters could not be used" in page
    assert "Apply" in page  # the form stays, to correct them


def test_another_projects_survey_is_not_found(team, owner, other_api, answered):
    other = other_api.post("/api/v1/surveys", json={"name": "Theirs"}).json["id"]
    team.sign_in(owner.email)
    r = team.get(f"/app/?survey={other}")
    assert r.status_code == 404
    assert "These filters could not be used" in r.get_data(as_text=True)


def test_a_viewer_sees_figures_and_no_edit_control(team, viewer, answered):
    team.sign_in(viewer.email)
    page = team.get("/app/").get_data(as_text=True)
    assert 'data-metric="nps"' in page
    main = page.split('<main id="main"', 1)[1]
    assert 'method="post"' not in main


def test_the_email_response_rate_per_quarter_counts_invitations_by_when_they_were_sent(
    app, team, owner, api, project, answered
):
    """Q1: 4 sent, 1 answered (25%); Q2: 2 sent, 2 answered (100%); Q3: none sent. Reminders,
    unsent and failed invitations do not count, nor another survey's."""
    from datetime import datetime

    from service.db import db
    from surveys.email.rates import rates_by_period
    from surveys.models import Invitation, Person
    from surveys.periods import periods_between

    other = api.post("/api/v1/surveys", json={"name": "Other"}).json["id"]
    made = [
        # (survey, sent_at, responded, kind, status)
        (answered, datetime(2026, 1, 5), True, "invite", "sent"),
        (answered, datetime(2026, 2, 5), False, "invite", "sent"),
        (answered, datetime(2026, 3, 5), False, "invite", "sent"),
        (answered, datetime(2026, 3, 31, 23), False, "invite", "sent"),
        (answered, datetime(2026, 4, 2), True, "invite", "sent"),
        (answered, datetime(2026, 5, 2), True, "invite", "sent"),
        (answered, datetime(2026, 5, 3), True, "reminder", "sent"),
        (answered, datetime(2026, 5, 4), False, "invite", "failed"),
        (answered, None, False, "invite", "scheduled"),
        (other, datetime(2026, 2, 6), False, "invite", "sent"),
    ]
    with app.app_context():
        session = db()
        person = Person(project_id=project.id, external_id="invited")
        session.add(person)
        session.flush()
        for n, (survey, sent_at, responded, kind, status) in enumerate(made):
            session.add(
                Invitation(
                    project_id=project.id,
                    survey_id=survey,
                    person_id=person.id,
                    kind=kind,
                    status=status,
                    window_key=f"w{n}",
                    due_at=sent_at or datetime(2026, 6, 1),
                    sent_at=sent_at,
                    responded_at=sent_at if responded else None,
                )
            )
        session.commit()
        periods = periods_between(datetime(2026, 1, 1), datetime(2026, 9, 1), "quarter", "UTC")
        rates = rates_by_period(session, project.id, periods, survey_id=answered)
    assert [(r.key, r.sent, r.responded, r.rate) for r in rates] == [
        ("2026-Q1", 4, 1, 0.25),
        ("2026-Q2", 2, 2, 1.0),
        ("2026-Q3", 0, 0, None),
    ]
    r = api.get(
        f"/api/v1/surveys/{answered}/invitations/rates"
        "?since=2026-01-01T00:00:00Z&until=2026-09-01T00:00:00Z"
    )
    assert r.status_code == 200, r.json
    assert [
        (b["key"], b["sent"], b["responded"], b["response_rate"]) for b in r.json["buckets"]
    ] == [
        ("2026-Q1", 4, 1, 0.25),
        ("2026-Q2", 2, 2, 1.0),
        ("2026-Q3", 0, 0, None),
    ]
    assert r.json["buckets"][0]["start"] == "2026-01-01T00:00:00Z"
    bad = api.get(f"/api/v1/surveys/{answered}/invitations/rates?group_by=decade")
    assert bad.status_code == 422
    assert api.get("/api/v1/surveys/999999/invitations/rates").status_code == 404
    team.sign_in(owner.email)
    q2 = team.get(f"/app/?survey={answered}&period=2026-Q2").get_data(as_text=True)
    assert figures(q2)["email_response_rate"] == 1.0
    q1 = team.get(f"/app/?survey={answered}&period=2026-Q1").get_data(as_text=True)
    assert figures(q1)["email_response_rate"] == 0.25
    assert "25% <span" in q1 and "(1 of 4)" in q1


def test_a_property_filter_narrows_the_page_and_the_api_alike(team, owner, api, answered):
    """Only plan=pro answers (odd people): Q3's scores 2, 9, 4, 6 -> one promoter, three
    detractors of four: NPS -50. A number matches as written (mrr=11 is p1 alone)."""
    team.sign_in(owner.email)
    query = f"survey_id={answered}&property=plan&property_value=pro"
    expected = api_nps(api, query)
    assert (expected["responses"], expected["nps"]) == (4, -50.0)
    page = team.get(f"/app/?survey={answered}&property=plan&property_value=pro")
    assert page.status_code == 200
    shown = figures(page.get_data(as_text=True))
    assert (shown["nps"], shown["responses"]) == (-50.0, 4)
    listed = api.get(f"/api/v1/responses?{query}&limit=100").json["items"]
    assert len(listed) == 12 and {r["properties"]["plan"] for r in listed} == {"pro"}
    by_number = api.get(f"/api/v1/responses?survey_id={answered}&property=mrr&property_value=11")
    assert {r["score"] for r in by_number.json["items"]} == {9, 10, 2}
    feed = team.get("/app/responses?property=plan&property_value=free").get_data(as_text=True)
    assert "Only where property" in feed and 'value="free"' in feed
    half = api.get(f"/api/v1/metrics/nps?survey_id={answered}&property=plan")
    assert half.status_code == 422
    assert team.get("/app/?property_value=pro").status_code == 422
