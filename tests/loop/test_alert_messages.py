"""The message builders as pure functions: Slack's limits and escaping, "and N more", the
Teams card's shape, and an email subject that stays one line."""

from __future__ import annotations

import email
import email.policy

from surveys.loop.alert_content import Alert, AlertItem
from surveys.loop.alert_messages import email_message, slack_body, slack_escape, teams_body


def _alert(count: int, headline: str = "12 detractors answered", more: int = 0) -> Alert:
    items = [
        AlertItem(
            title=f"p{n} scored 3",
            facts=[("Score", "3"), ("Person", f"p{n}")],
            link=f"https://flywheel.example/app/people/{n}",
            link_label="Open response",
            quote="line one\nline > two",
        )
        for n in range(count)
    ]
    return Alert(
        headline,
        "Rule & <co>",
        "Acme",
        items,
        more=more,
        more_link="https://flywheel.example/app/responses?segment=detractor",
    )


def test_slack_escapes_its_three_characters():
    assert (
        slack_escape("a & b <@U123> <!here> > c") == "a &amp; b &lt;@U123&gt; &lt;!here&gt; &gt; c"
    )


def test_slack_body_for_a_large_burst_stays_within_block_kit_limits():
    body = slack_body(_alert(10, headline="x" * 400, more=2))
    blocks = body["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    assert blocks[1]["elements"][0]["text"] == "*Rule &amp; &lt;co&gt;* · Acme"
    quotes = [b["text"]["text"] for b in blocks if b["type"] == "section" and "fields" not in b]
    assert quotes[0] == "> line one\n> line &gt; two"
    assert blocks[-2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "and 2 more not shown here"}],
    }
    [button] = blocks[-1]["elements"]
    assert button["url"].endswith("/app/responses?segment=detractor")
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids)) == 11


def test_teams_card_carries_open_all_when_there_are_more():
    card = teams_body(_alert(2, more=3))["attachments"][0]["content"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open all",
            "url": "https://flywheel.example/app/responses?segment=detractor",
        }
    ]
    assert sum(1 for b in card["body"] if b["type"] == "Container") == 2


def test_email_subject_is_one_line_whatever_the_rule_name():
    alert = Alert("1 detractor answered", "Name\r\nBcc: x@evil.test", "Acme", [])
    message = email_message(alert, "Flywheel <nps@acme.test>", "cx@acme.test", "acme.test")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["To"] == "cx@acme.test"
    assert message["Subject"] == "1 detractor answered · Name Bcc: x@evil.test"
