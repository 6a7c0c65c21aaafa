"""The responses feed, a person's page and the movement page, over answers made through the
API: filters, text search with LIKE's wildcards, paging both ways, bad filters, another
project's person, hidden emails for viewers, and the movement page's figures equal the API's."""

from __future__ import annotations

import re

import pytest

from service.app.page_args import FEED_PAGE_SIZE
from surveys.accounts.roles import Role
from tests.answers import answer
from tests.app.conftest import TeamClient, add_user
from tests.app.data import Q1, Q2, api_movement, make_answers

_ITEM = re.compile(r'class="feed-person" href="/app/people/(\d+)"')


@pytest.fixture
def data(api):
    return make_answers(api)


@pytest.fixture
def signed_in(team, owner):
    assert team.sign_in(owner.email).status_code == 302
    return team


def feed(team, query: str = "") -> tuple[list[int], str]:
    r = team.get(f"/app/responses?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    html = r.get_data(as_text=True)
    return [int(i) for i in _ITEM.findall(html)], html


def people(data, *names):
    return [data.people[n] for n in names]


def test_the_feed_lists_newest_first_with_movement(signed_in, data):
    ids, html = feed(signed_in)
    # Newest answer first: Q2's, then Q1's; answers given at the same moment, last recorded
    # first (they were recorded person by person, Q1 before Q2).
    assert ids == people(data, "eve", "cat", "bob", "ann", "dan", "cat", "bob", "ann")
    assert "Support never answers" in html
    assert "↓ moved down" in html and "↑ moved up" in html and "• first answer" in html
    assert "Ann Lee" in html


def test_filters_change_the_list(signed_in, data):
    assert feed(signed_in, "segment=detractor")[0] == people(data, "bob", "ann", "cat")
    assert feed(signed_in, "period=2026-Q1")[0] == people(data, "dan", "cat", "bob", "ann")
    assert feed(signed_in, "channel=widget")[0] == people(data, "eve")
    assert feed(signed_in, f"survey={data.survey_id}&segment=promoter&period=2026-Q2")[0] == (
        people(data, "cat")
    )
    # A form sends every field: empty ones filter nothing.
    assert len(feed(signed_in, "segment=&channel=&q=&period=")[0]) == 8


def test_text_search_ignores_case_and_matches_wildcards_as_typed(signed_in, data):
    assert feed(signed_in, "q=SUPPORT")[0] == people(data, "ann")
    assert feed(signed_in, "q=100%25")[0] == people(data, "bob")
    assert feed(signed_in, "q=%25")[0] == people(data, "bob")  # not every comment
    assert feed(signed_in, "q=fine_")[0] == people(data, "dan")  # not "finesse"
    ids, html = feed(signed_in, "q=nothing+like+this")
    assert ids == [] and "No responses match these filters." in html


def test_the_api_searches_comments_too(api, data):
    r = api.get("/api/v1/responses?q=fine_")
    assert r.status_code == 200, r.json
    assert [i["person_id"] for i in r.json["items"]] == people(data, "dan")
    spec = api.get("/api/openapi.json").json
    params = spec["paths"]["/api/v1/responses"]["get"]["parameters"]
    assert {"q", "theme_id"} <= {p["name"] for p in params}


@pytest.mark.parametrize(
    "query",
    ["period=2026-Q9", "segment=happy", "channel=fax", "survey=abc", "theme=-1", "older=x"],
)
def test_bad_filters_explain_themselves(signed_in, data, query):
    r = signed_in.get(f"/app/responses?{query}")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "These filters could not be read." in html
    assert query.split("=")[0] + ":" in html


def test_older_and_newer_pages(signed_in, api):
    r = api.post("/api/v1/surveys", json={"name": "Busy"})
    survey = r.json["id"]
    made = [answer(api, survey, f"p{i}", i % 11, Q1)["id"] for i in range(FEED_PAGE_SIZE + 3)]
    first = signed_in.get("/app/responses").get_data(as_text=True)
    assert "Newer" not in first
    older = re.search(r'href="(/app/responses\?older=\d+)" rel="next"', first).group(1)
    second = signed_in.get(older).get_data(as_text=True)
    assert len(_ITEM.findall(second)) == 3 and "Older" not in second
    newer = re.search(r'href="(/app/responses\?newer=\d+)" rel="prev"', second).group(1)
    back = signed_in.get(newer).get_data(as_text=True)
    assert _ITEM.findall(back) == _ITEM.findall(first)
    assert "Newer" not in back and len(made) == FEED_PAGE_SIZE + 3


_ROW = re.compile(r'<li class="feed-item" id="r-(\d+)"')


def test_pages_follow_the_answers_time_across_ties_and_imports(signed_in, api):
    """Answers recorded out of time order (an import of history), several given at the same
    moment: the pages walk time newest first, ties last recorded first, both ways."""
    survey = api.post("/api/v1/surveys", json={"name": "Imported"}).json["id"]
    made = []
    for i in range(FEED_PAGE_SIZE + 3):
        when = f"2026-0{1 + i % 3}-0{1 + i % 5}T12:00:00Z"  # 15 moments for 28 answers
        made.append((when, answer(api, survey, f"h{i}", i % 11, when)["id"]))
    expected = [rid for _, rid in sorted(made, reverse=True)]
    first = signed_in.get("/app/responses").get_data(as_text=True)
    older = re.search(r'href="(/app/responses\?older=\d+)" rel="next"', first).group(1)
    second = signed_in.get(older).get_data(as_text=True)
    shown = [int(i) for i in _ROW.findall(first) + _ROW.findall(second)]
    assert shown == expected
    newer = re.search(r'href="(/app/responses\?newer=\d+)" rel="prev"', second).group(1)
    assert _ROW.findall(signed_in.get(newer).get_data(as_text=True)) == _ROW.findall(first)
    # A period filter pages the same way through that quarter's answers only.
    in_q1 = [int(i) for i in _ROW.findall(signed_in.get("/app/responses?period=2026-Q1").text)]
    assert in_q1 == expected[:FEED_PAGE_SIZE]
    # A cursor whose answer is gone (erased) starts again from the newest.
    gone = max(rid for _, rid in made) + 1000
    again = signed_in.get(f"/app/responses?older={gone}").get_data(as_text=True)
    assert _ROW.findall(again) == _ROW.findall(first)


def test_the_person_page_shows_answers_across_quarters(signed_in, data):
    r = signed_in.get(f"/app/people/{data.people['ann']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.index("2026-Q2") < html.index("2026-Q1")  # newest first
    assert "Support never answers" in html and "Love it" in html
    assert "ann@customer.test" in html and "plan" in html and "pro" in html


def test_another_projects_person_is_not_found(signed_in, data, other_api):
    r = other_api.post("/api/v1/surveys", json={"name": "Theirs"})
    theirs = answer(other_api, r.json["id"], "zed", 3, Q2)["person_id"]
    r = signed_in.get(f"/app/people/{theirs}")
    assert r.status_code == 404
    assert "Page not found" in r.get_data(as_text=True)
    assert signed_in.get("/app/people/999999").status_code == 404


def test_a_viewer_sees_no_emails_when_the_project_hides_them(app, team, api, project, data):
    assert api.patch("/api/v1/project", json={"hide_emails_from_viewers": True}).status_code == 200
    viewer = add_user(app, project.id, "viewer@acme.test", Role.VIEWER)
    team.sign_in(viewer.email)
    for path in (
        "/app/responses",
        f"/app/people/{data.people['ann']}",
        "/app/movement?from=2026-Q1",
    ):
        html = team.get(path).get_data(as_text=True)
        assert "ann@customer.test" not in html, path
        assert "Ann Lee" in html, path
    editor = add_user(app, project.id, "editor@acme.test", Role.EDITOR)
    other = TeamClient(app.test_client())
    other.sign_in(editor.email)
    page = other.get(f"/app/people/{data.people['ann']}").get_data(as_text=True)
    assert "ann@customer.test" in page


def _metrics(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="([^"]+)" data-value="([^"]*)"', html))


def test_the_movement_page_shows_the_apis_figures(signed_in, api, data):
    expected = api_movement(api, data)
    r = signed_in.get(f"/app/movement?survey_id={data.survey_id}&from=2026-Q1&to=2026-Q2")
    assert r.status_code == 200, r.get_data(as_text=True)
    html = r.get_data(as_text=True)
    shown = _metrics(html)
    change = expected["repeat_nps"]
    assert float(shown["paired_change"]) == change["change"]
    assert float(shown["ci_low"]) == change["ci_low"]
    assert float(shown["ci_high"]) == change["ci_high"]
    assert int(shown["moved_down"]) == expected["totals"]["moved_down"] == 2
    assert int(shown["repeat"]) == expected["totals"]["repeat"]
    assert (
        float(shown["revenue_moved_down"])
        == (expected["weighted"]["revenue_at_risk"]["moved_down"])
    )
    assert expected["weighted"]["revenue_at_risk"]["moved_down"] == 1500
    for a, row in expected["matrix"].items():
        for b, cell in row.items():
            assert int(shown[f"matrix_{a}_{b}"]) == cell["count"]
        assert int(shown[f"lapsed_{a}"]) == expected["lapsed"][a]
        assert int(shown[f"new_{a}"]) == expected["new"][a]
    # Promoter to detractor first, then one step down, then up; each links to the person.
    order = [int(i) for i in re.findall(r'<th scope="row"><a href="/app/people/(\d+)"', html)]
    assert order == people(data, "ann", "bob", "cat")
    # The default pair is the last two complete quarters: the same as the API's default.
    default = _metrics(signed_in.get("/app/movement").get_data(as_text=True))
    assert int(default["repeat"]) == api_movement(api, data, "")["totals"]["repeat"]


def test_movement_with_bad_or_no_input(signed_in, api, other_api):
    assert "There is no survey yet" in signed_in.get("/app/movement").get_data(as_text=True)
    r = other_api.post("/api/v1/surveys", json={"name": "Theirs"})
    assert signed_in.get(f"/app/movement?survey_id={r.json['id']}").status_code == 404
    ours = api.post("/api/v1/surveys", json={"name": "Ours"}).json["id"]
    bad = ("from=2026-Q9", "period=decade", "weight=mrr", "to=2026-Q1&from=2026-Q2")
    for query in [f"survey_id={ours}&{q}" for q in bad] + ["survey_id=x"]:
        r = signed_in.get(f"/app/movement?{query}")
        assert r.status_code in (400, 422), (query, r.status_code)
        assert "<h1>" in r.get_data(as_text=True)


def test_movers_come_worst_first_in_sql_across_pages(app, signed_in, project, data):
    """The order is the database's, not a sort of one page: walking pages of one gives
    promoter-to-detractor drops first (by person id), then rises; past the end, nothing."""
    with app.app_context():
        from service.db import db
        from surveys.analytics.movement import MovementQuery
        from surveys.analytics.movers import MoversQuery, list_movers
        from surveys.clock import utcnow
        from surveys.models import Project

        owner_project = db().get(Project, project.id)
        pair = MovementQuery(survey_id=data.survey_id, from_label="2026-Q1", to_label="2026-Q2")
        seen, offset = [], 0
        while offset is not None:
            page = list_movers(
                db(),
                owner_project,
                MoversQuery(pair=pair, movement="moved"),
                utcnow(),
                limit=1,
                after=None,
                worst_first_offset=offset,
            )
            seen += [m.person.id for m in page.items]
            offset = page.next_after
    assert seen == people(data, "ann", "bob", "cat")
    page_two = signed_in.get(
        f"/app/movement?survey_id={data.survey_id}&from=2026-Q1&to=2026-Q2&movers_page=2"
    )
    assert page_two.status_code == 200
    html = page_two.get_data(as_text=True)
    assert "No more people moved." in html
    assert 'rel="prev"' in html and "movers_page=1" in html


def test_a_search_reads_a_window_of_answers_per_page(app, project, data):
    """With a window of 3 answers a page, a text search goes back through every answer in
    pages that each read at most 3, finding what one unbounded search finds, in its order."""
    from service.db import db
    from surveys.response_filters import ResponseFilters, list_newest_responses

    search = ResponseFilters(text="o")
    with app.app_context():
        everything = list_newest_responses(db(), project.id, search, limit=25)
        assert everything.next_after is None and len(everything.items) == 6
        found, reached, cursor = [], [], None
        while True:
            page = list_newest_responses(
                db(), project.id, search, limit=25, older_than=cursor, search_window=3
            )
            found += [r.id for r in page.items]
            reached.append(page.searched_to)
            cursor = page.next_after
            if cursor is None:
                break
    assert found == [r.id for r in everything.items]
    # Q2's four answers (one moment) and Q1's four: the windows end in Q2, in Q1, then
    # nothing is left.
    assert [r.month if r else None for r in reached] == [5, 2, None]


def test_the_feed_says_how_far_back_a_search_went(signed_in, data, monkeypatch):
    from service.app import feed as feed_page

    monkeypatch.setattr(feed_page, "SEARCH_WINDOW", 3)
    ids, html = feed(signed_in, "q=o")
    # The window's third answer was given with Q2's other answers: all four are searched.
    assert ids == people(data, "cat", "bob", "ann")
    assert "Searched the answers given since 2026-05-01 12:00 UTC" in html
    older = re.search(r'href="/app/responses\?([^"]*older=\d+[^"]*)" rel="next"', html)
    assert "q=o" in older.group(1)
    ids, _ = feed(signed_in, older.group(1).replace("&amp;", "&"))
    assert ids == people(data, "dan", "cat", "ann")
    # Without a search, nothing is windowed.
    assert "Searched the answers" not in feed(signed_in, "segment=detractor")[1]
