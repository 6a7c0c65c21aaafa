"""The digest end to end: the worker pass sends it to a real SMTP sink, its parts and charts
parse, its figures equal the API's for the same data, it pauses without new feedback, it is
never sent twice for one period, and its unsubscribe link works."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from service.db import db
from service.worker.digests import send_due
from surveys.accounts.roles import Role
from surveys.models import DigestSend, DigestSubscription
from tests.answers import answer
from tests.app.conftest import TeamClient, add_user
from tests.app.data import api_movement
from tests.email.conftest import email_app
from tests.loop.digest.conftest import (
    NOW,
    POINTS,
    TREND_START,
    WEEK,
    WEEK_END,
    digests_to,
    html_of,
    images,
    metrics,
    subscribe,
)


def run_pass(app, now=NOW) -> int:
    with app.app_context():
        return send_due(app, now)


def test_the_digest_arrives_with_text_html_and_inline_charts(app, project, answers, smtp_sink):
    subscribe(app, project.id, "lead@acme.test")
    assert run_pass(app) == 1
    [message] = digests_to(smtp_sink, "lead@acme.test")
    # By hand (adjusted Wald, n' = 6): p' = 2.75 / 6, d' = 1.75 / 6, margin 1.96 * sqrt(
    # (p' + d' - (p' - d')^2) / 6) = 68.0 points.
    assert message["Subject"] == f"Acme: NPS 33.3 ± 68 for week {WEEK}"
    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html = html_of(message)
    assert related.get_payload()[0].get_content_type() == "text/html"
    text = text_part.get_content()
    assert "NPS: 33.3 ± 68 " in text and "from 3 people" in text
    # Both charts: PNG files Pillow opens, of the drawn size, each shown by its cid with alt text.
    found = images(message)
    assert sorted(img.size for img in found.values()) == [(1120, 144), (1120, 440)]
    for cid, image in found.items():
        assert image.format == "PNG"
        tag = re.search(rf'<img src="cid:{re.escape(cid)}"[^>]*>', html)
        assert tag, cid
        alt = re.search(r'alt="([^"]+)"', tag.group(0)).group(1)
        assert len(alt) > 20
    assert (
        "NPS per week" in html
        and "Segments: detractors 33.3%, passives 0%, promoters 66.7%" in html
    )
    # One-click unsubscribe headers (RFC 8058) and no remote content.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<http://flywheel.test/d/")
    assert "http" not in "".join(re.findall(r'src="([^"]+)"', html))


def test_the_figures_equal_the_apis(app, api, project, answers, smtp_sink):
    subscribe(app, project.id, "lead@acme.test")
    run_pass(app)
    [message] = digests_to(smtp_sink, "lead@acme.test")
    html = html_of(message)
    shown = metrics(html)

    nps = api.get(f"/api/v1/metrics/nps?group_by=week&since={TREND_START}&until={WEEK_END}").json
    bucket = next(b for b in nps["buckets"] if b["key"] == WEEK)
    # By hand: 3, 9 and 10 in the week are one detractor and two promoters of three.
    assert bucket["nps"] == 33.33 and bucket["responses"] == 3
    assert float(shown["nps"]) == bucket["nps"]
    assert float(shown["margin_of_error"]) == bucket["margin_of_error"]
    assert int(shown["responses"]) == bucket["responses"]
    assert shown["significant"] == str(bucket["change"]["significant"]).lower() == "false"
    assert "+0.0 from 2026-W26" in html

    # Movement between the last two complete quarters as of the week's end: Q1 -> Q2.
    moved = api_movement(api, answers.data)
    assert int(shown["moved_up"]) == moved["totals"]["moved_up"] == 1
    assert int(shown["moved_down"]) == moved["totals"]["moved_down"] == 2
    revenue = moved["weighted"]["revenue_at_risk"]["total"]
    # By hand: ann (1200) and bob (300) moved down to detractor and passive; hal (10) is a
    # new detractor in Q2 (June): 1200 + 300 + 10.
    assert float(shown["revenue_at_risk"]) == revenue == 1510

    movers = api.get(
        f"/api/v1/movement/people?survey_id={answers.data.survey_id}"
        "&from=2026-Q1&to=2026-Q2&movement=down"
    ).json["items"]
    assert len(movers) == 2
    # The promoter who became a detractor first, with what she said.
    assert html.index("Ann Lee") < html.index("bob")
    assert "Support never answers" in html and "ann@customer.test" in html

    rates = api.get(
        f"/api/v1/surveys/{answers.data.survey_id}/invitations/rates?group_by=week"
    ).json["buckets"]
    assert all(b["response_rate"] is None for b in rates)
    assert "No invitations to Quarterly NPS sent yet" in html

    themes = api.get("/api/v1/themes?sort=impact").json["items"]
    top = [t["label"] for t in themes[:3]]
    assert top == [p[0] for p in POINTS[:3]]
    positions = [html.index(f'data-metric="friction_point">{label}<') for label in top]
    assert positions == sorted(positions)
    assert "Login trouble" not in html
    assert 'data-metric="growing_point">Slow exports<' in html


def test_viewers_of_a_project_that_hides_emails_see_none(app, project, answers, smtp_sink):
    with app.app_context():
        from surveys.models import Project

        db().get(Project, project.id).hide_emails_from_viewers = True
        db().commit()
    subscribe(app, project.id, "viewer@acme.test", Role.VIEWER)
    run_pass(app)
    [message] = digests_to(smtp_sink, "viewer@acme.test")
    assert "Ann Lee" in html_of(message)
    assert "ann@customer.test" not in html_of(message)
    assert "ann@customer.test" not in message.get_body(("plain",)).get_content()


def test_not_sent_twice_for_one_week(app, project, answers, smtp_sink):
    subscribe(app, project.id, "lead@acme.test")
    assert run_pass(app) == 1
    assert run_pass(app) == 0
    assert run_pass(app, NOW + timedelta(days=3)) == 0
    assert len(digests_to(smtp_sink, "lead@acme.test")) == 1


def test_two_workers_at_once_send_one_digest(
    app, database_url, tmp_path, project, answers, smtp_sink
):
    subscribe(app, project.id, "lead@acme.test")
    other = email_app(database_url, tmp_path / "var2", smtp_sink.url)
    start = threading.Barrier(2)
    done: list[int] = []

    def worker(each):
        start.wait()
        done.append(run_pass(each))

    threads = [threading.Thread(target=worker, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.extensions["db_engine"].dispose()
    assert sorted(done) == [0, 1]
    assert len(digests_to(smtp_sink, "lead@acme.test")) == 1


def test_paused_without_new_feedback_and_back_when_it_comes(app, api, project, answers, smtp_sink):
    member = subscribe(app, project.id, "lead@acme.test")
    run_pass(app)
    # The next week (W28) brought no answer: recorded as paused, nothing sent.
    assert run_pass(app, NOW + timedelta(days=7)) == 1
    assert len(digests_to(smtp_sink, "lead@acme.test")) == 1
    # An answer in W29: the digest after it is sent, and covers it.
    answer(api, answers.data.survey_id, "kim", 4, "2026-07-15T10:00:00Z", comment="Too pricey")
    assert run_pass(app, NOW + timedelta(days=14)) == 1
    later = digests_to(smtp_sink, "lead@acme.test")
    assert len(later) == 2 and "2026-W29" in later[1]["Subject"]
    with app.app_context():
        sends = {s.period: s.status for s in db().query(DigestSend)}
        assert sends == {WEEK: "sent", "2026-W28": "paused", "2026-W29": "sent"}
        sub = db().query(DigestSubscription).filter_by(user_id=member.id).one()
        assert sub.covered_until.isoformat() == "2026-07-20T00:00:00"


def test_the_unsubscribe_link_asks_then_stops_the_digest(app, client, project, answers, smtp_sink):
    subscribe(app, project.id, "lead@acme.test")
    run_pass(app)
    [message] = digests_to(smtp_sink, "lead@acme.test")
    url = message["List-Unsubscribe"].strip().strip("<>").removeprefix("http://flywheel.test")
    assert url in message.get_body(("plain",)).get_content().replace("http://flywheel.test", "")
    # A GET (a mail scanner) changes nothing.
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    with app.app_context():
        assert db().query(DigestSubscription).one().active is True
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200  # a second click is fine
    with app.app_context():
        assert db().query(DigestSubscription).one().active is False
    answer(app_api(app, project), answers.data.survey_id, "kim", 4, "2026-07-08T09:00:00Z")
    assert run_pass(app, NOW + timedelta(days=7)) == 0
    # A forged or altered token is refused.
    assert client.post(url[:-3] + "abc").status_code == 400


def app_api(app, project):
    from tests.conftest import Api

    return Api(app.test_client(), project)


def test_a_member_opts_in_on_the_digest_page(app, project, answers, smtp_sink):
    member = add_user(app, project.id, "viewer@acme.test", Role.VIEWER)
    team = TeamClient(app.test_client())
    assert team.sign_in(member.email).status_code == 302
    page = team.get("/app/digest")
    assert page.status_code == 200
    assert 'data-metric="digest_cadence" data-value="off"' in page.get_data(as_text=True)
    assert team.post("/app/digest", {"cadence": "weekly"}).status_code == 302
    assert 'data-value="weekly"' in team.get("/app/digest").get_data(as_text=True)
    assert team.post("/app/digest", {"cadence": "yearly"}).status_code == 422
    assert team.post("/app/digest", {"cadence": "weekly"}, token=False).status_code in (400, 403)
    assert run_pass(app) == 1
    assert len(digests_to(smtp_sink, "viewer@acme.test")) == 1
    assert team.post("/app/digest", {"cadence": "off"}).status_code == 302
    with app.app_context():
        assert db().query(DigestSubscription).one().active is False


def test_a_removed_member_gets_no_digest(app, api, project, answers, smtp_sink):
    member = subscribe(app, project.id, "gone@acme.test")
    with app.app_context():
        from surveys.accounts.users import remove_member

        subscribe(app, project.id, "owner@acme.test")
        remove_member(db(), project.id, member.id)
        db().commit()
    assert run_pass(app) == 1
    assert digests_to(smtp_sink, "gone@acme.test") == []


def test_the_cli_sends_one_now(app, project, answers, smtp_sink):
    result = app.test_cli_runner().invoke(
        args=["digest", "send", "--project", str(project.id), "--to", "boss@acme.test"]
    )
    assert result.exit_code == 0, result.output
    assert "sent to boss@acme.test" in result.output
    [message] = digests_to(smtp_sink, "boss@acme.test")
    assert images(message)
    # Not a member: no one's address, and no unsubscribe link to a subscription it has not.
    assert "ann@customer.test" not in html_of(message)
    assert message["List-Unsubscribe"] is None
    missing = app.test_cli_runner().invoke(
        args=["digest", "send", "--project", "999999", "--to", "boss@acme.test"]
    )
    assert missing.exit_code != 0 and "not found" in missing.output


def test_a_deferred_digest_is_sent_later_and_a_refused_one_is_not_retried(
    app, project, answers, smtp_sink
):
    subscribe(app, project.id, "busy@acme.test")
    subscribe(app, project.id, "gone@acme.test")
    smtp_sink.refuse["busy@acme.test"] = "451 4.3.0 try again later"
    smtp_sink.refuse["gone@acme.test"] = "550 5.1.1 no such user"
    assert run_pass(app) == 1  # the refused one is done with; the deferred one is given back
    with app.app_context():
        assert {s.status for s in db().query(DigestSend)} == {"failed"}
    del smtp_sink.refuse["busy@acme.test"]
    del smtp_sink.refuse["gone@acme.test"]
    assert run_pass(app) == 1
    assert len(digests_to(smtp_sink, "busy@acme.test")) == 1
    assert digests_to(smtp_sink, "gone@acme.test") == []
    with app.app_context():
        assert sorted(s.status for s in db().query(DigestSend)) == ["failed", "sent"]


def test_a_monthly_digest_covers_the_last_complete_month(app, api, project, answers, smtp_sink):
    subscribe(app, project.id, "monthly@acme.test", cadence="monthly")
    assert run_pass(app) == 1
    [message] = digests_to(smtp_sink, "monthly@acme.test")
    shown = metrics(html_of(message))
    # June 2026 holds fay's 10, gus's 9 and hal's 2 (July's answers are not in it).
    nps = api.get(
        "/api/v1/metrics/nps?group_by=month&since=2025-11-01T00:00:00Z&until=2026-07-01T00:00:00Z"
    ).json
    june = next(b for b in nps["buckets"] if b["key"] == "2026-06")
    assert june["responses"] == 3 and june["nps"] == 33.33
    assert float(shown["nps"]) == june["nps"]
    assert float(shown["margin_of_error"]) == june["margin_of_error"]
    assert "month 2026-06" in message["Subject"]
    assert "NPS per month" in html_of(message)


def test_an_empty_project_pauses_and_the_cli_still_sends_its_digest(app, project, smtp_sink):
    subscribe(app, project.id, "lead@acme.test")
    assert run_pass(app) == 1
    assert digests_to(smtp_sink, "lead@acme.test") == []  # paused: no feedback at all
    result = app.test_cli_runner().invoke(
        args=["digest", "send", "--project", str(project.id), "--to", "lead@acme.test"]
    )
    assert result.exit_code == 0, result.output
    [message] = digests_to(smtp_sink, "lead@acme.test")
    html = html_of(message)
    assert "No scored answers in" in html and "No friction points yet" in html
    assert message["Subject"].startswith("Acme: your NPS digest for week ")
    # Only the trend (empty); no segment bar without answers. A member's copy can unsubscribe.
    assert len(images(message)) == 1
    assert message["List-Unsubscribe"].strip().startswith("<http://flywheel.test/d/")


def test_the_response_rate_is_the_covered_weeks(app, api, project, answers, smtp_sink):
    """Three invitations sent in 2026-W27, two answered: 66.67%; one sent the week before
    (answered) and a reminder do not count. The same figure as the API's rates for W27."""
    from datetime import datetime

    from surveys.models import Invitation, Person

    sent = [
        (datetime(2026, 6, 30, 9), True, "invite"),
        (datetime(2026, 7, 1, 9), True, "invite"),
        (datetime(2026, 7, 5, 23), False, "invite"),
        (datetime(2026, 6, 26, 9), True, "invite"),
        (datetime(2026, 7, 2, 9), True, "reminder"),
    ]
    with app.app_context():
        person = Person(project_id=project.id, external_id="invited")
        db().add(person)
        db().flush()
        for n, (when, answered, kind) in enumerate(sent):
            db().add(
                Invitation(
                    project_id=project.id,
                    survey_id=answers.data.survey_id,
                    person_id=person.id,
                    kind=kind,
                    status="sent",
                    window_key=f"w{n}",
                    due_at=when,
                    sent_at=when,
                    responded_at=when if answered else None,
                )
            )
        db().commit()
    subscribe(app, project.id, "lead@acme.test")
    run_pass(app)
    [message] = digests_to(smtp_sink, "lead@acme.test")
    shown = metrics(html_of(message))
    rates = api.get(
        f"/api/v1/surveys/{answers.data.survey_id}/invitations/rates"
        f"?group_by=week&since={TREND_START}&until={WEEK_END}"
    ).json["buckets"]
    week = next(b for b in rates if b["key"] == WEEK)
    assert (week["sent"], week["responded"], week["response_rate"]) == (3, 2, 0.6667)
    assert float(shown["response_rate"]) == week["response_rate"]
    assert "of 3 invitations" in html_of(message)
