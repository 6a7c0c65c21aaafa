"""Slack and Teams bodies posted to a real local receiver have their documented shapes; email
alerts arrive at a real SMTP server and parse."""

from __future__ import annotations

from datetime import timedelta

from surveys.clock import utcnow
from tests.loop.conftest import add_rule, answer, make_survey, run_pass


def test_slack_alert_is_block_kit_with_escaped_text(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(alert_api, destination="slack", url=receiver.url("/services/T0/B0/XyZ1"))
    given = answer(
        alert_api,
        survey,
        "ann",
        2,
        comment="Export <b>broke</b> & <!channel> again",
        properties={"plan": "enterprise"},
    )
    now = utcnow() + timedelta(seconds=61)
    assert run_pass(alert_app, now) == 1
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post.path == "/services/T0/B0/XyZ1"
    assert post.headers["Content-Type"].startswith("application/json")
    body = post.body
    assert body["text"] == "1 detractor answered (Detractors)"
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "context", "section", "section", "actions"]
    header = body["blocks"][0]
    assert header["text"] == {"type": "plain_text", "text": "1 detractor answered", "emoji": True}
    section = body["blocks"][2]
    assert section["text"] == {"type": "mrkdwn", "text": "*ann scored 2*"}
    assert {"type": "mrkdwn", "text": "*Score*\n2"} in section["fields"]
    assert {"type": "mrkdwn", "text": "*Person*\nann"} in section["fields"]
    quote = body["blocks"][3]["text"]
    assert quote == {
        "type": "mrkdwn",
        "text": "> Export &lt;b&gt;broke&lt;/b&gt; &amp; &lt;!channel&gt; again",
    }
    button = body["blocks"][4]["elements"][0]
    assert button["type"] == "button"
    assert button["text"]["type"] == "plain_text"
    assert button["url"] == f"http://flywheel.test/app/people/{given['person_id']}"
    # Sent once: the next pass finds nothing new.
    assert run_pass(alert_app, now + timedelta(minutes=5)) == 0
    assert len(receiver.posts) == 1
