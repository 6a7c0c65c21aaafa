"""Slack and Teams bodies posted to a real local receiver have their documented shapes; email
alerts arrive at a real SMTP server and parse."""

from __future__ import annotations

from datetime import timedelta

from surveys.clock import utcnow
from tests.loop.alerts.conftest import add_rule, answer, make_survey, run_pass


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


def test_teams_alert_is_an_adaptive_card_in_an_attachment(alert_app, alert_api, receiver):
    survey = make_survey(alert_api)
    add_rule(alert_api, name="Big accounts", destination="teams", url=receiver.url("/webhookb2/x"))
    given = answer(alert_api, survey, "bob", 4, comment="[click](http://evil.test) **now**")
    assert run_pass(alert_app, utcnow() + timedelta(seconds=61)) == 1
    body = receiver.posts[0].body
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    first = card["body"][0]
    assert first["type"] == "RichTextBlock"
    assert first["inlines"][0] == {
        "type": "TextRun",
        "text": "1 detractor answered",
        "size": "Large",
        "weight": "Bolder",
    }
    container = card["body"][2]
    assert container["type"] == "Container"
    kinds = [part["type"] for part in container["items"]]
    assert kinds == ["RichTextBlock", "ColumnSet", "RichTextBlock", "ActionSet"]
    # The comment goes in a TextRun, which Teams shows without markdown: no injected link.
    assert container["items"][2]["inlines"][0]["text"] == "[click](http://evil.test) **now**"
    labels = [b["inlines"][0]["text"] for b in container["items"][1]["columns"][0]["items"]]
    values = [b["inlines"][0]["text"] for b in container["items"][1]["columns"][1]["items"]]
    assert dict(zip(labels, values, strict=True))["Score"] == "4"
    [action] = container["items"][3]["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Open response",
        "url": f"http://flywheel.test/app/people/{given['person_id']}",
    }


def test_email_alert_arrives_with_text_and_html_parts(alert_app, alert_api, smtp_sink):
    survey = make_survey(alert_api)
    add_rule(
        alert_api,
        name="Detractors\r\nBcc: victim@evil.test",
        destination="email",
        emails=["cx@acme.test"],
        expect=422,
    )
    add_rule(
        alert_api,
        name="Detractors <enterprise>",
        destination="email",
        emails=["cx@acme.test", "Lead@Acme.test"],
    )
    answer(alert_api, survey, "cy", 1, comment="Too slow <script>")
    assert run_pass(alert_app, utcnow() + timedelta(seconds=61)) == 1
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.received) == ["cx@acme.test", "lead@acme.test"]
    message = smtp_sink.received[0].message
    assert message["Subject"] == "1 detractor answered · Detractors <enterprise>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Bcc"] is None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "cy scored 1" in text
    assert "> Too slow <script>" in text
    assert "Too slow &lt;script&gt;" in html
    assert "<script>" not in html
    assert "http://flywheel.test/app/people/" in html
