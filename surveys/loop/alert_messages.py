"""An alert as each destination takes it: Slack Block Kit, a Teams Adaptive Card, an email.

Pure functions of an `Alert` (surveys/loop/alert_content.py). Every text that comes from a
customer or a respondent is escaped for its destination: Slack's `&`, `<` and `>` (which would
otherwise make links and @channel mentions), HTML in the email, and in Teams it goes in
`TextRun`s, which take no markdown. Email headers are built by `EmailMessage`, which refuses a
line break in a header, and the subject is made one line first.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from surveys.loop.alert_content import Alert
from surveys.plain_text import single_line

# Slack's documented limits (Block Kit reference): header text 150, section text 3000,
# field text 2000, button text 75.
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_BUTTON_MAX = 75
SLACK_MAX_FIELDS = 10
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """Slack's three control characters, as its "formatting text" guide says to escape them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(single_line(text), limit), "emoji": True}


def _mrkdwn(text: str, limit: int = SLACK_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, limit)}


def _button(label: str, url: str, action_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": _plain(label, SLACK_BUTTON_MAX),
        "url": url,
        "action_id": action_id,
    }


def slack_body(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook body: `text` for notifications, `blocks` for the message."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(alert.headline, SLACK_HEADER_MAX)},
        {
            "type": "context",
            "elements": [
                _mrkdwn(f"*{slack_escape(alert.rule_name)}* · {slack_escape(alert.project_name)}")
            ],
        },
    ]
    for n, item in enumerate(alert.items):
        fields = [
            _mrkdwn(f"*{slack_escape(label)}*\n{slack_escape(value)}", SLACK_FIELD_MAX)
            for label, value in item.facts[:SLACK_MAX_FIELDS]
        ]
        blocks.append(
            {"type": "section", "text": _mrkdwn(f"*{slack_escape(item.title)}*"), "fields": fields}
        )
        if item.quote:
            quoted = "\n".join("> " + slack_escape(line) for line in item.quote.splitlines())
            blocks.append({"type": "section", "text": _mrkdwn(quoted)})
        blocks.append(
            {"type": "actions", "elements": [_button(item.link_label, item.link, f"open_{n}")]}
        )
    if alert.more and alert.more_link:
        blocks.append(
            {"type": "context", "elements": [_mrkdwn(f"and {alert.more} more not shown here")]}
        )
        blocks.append(
            {"type": "actions", "elements": [_button("Open all", alert.more_link, "open_all")]}
        )
    return {"text": single_line(f"{alert.headline} ({alert.rule_name})"), "blocks": blocks}


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _rich(text: str, **style: Any) -> dict[str, Any]:
    # A RichTextBlock's TextRuns are shown as they are: no markdown, so no injected links.
    return {"type": "RichTextBlock", "inlines": [_run(text, **style)]}


def teams_body(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message carrying one Adaptive Card, as Teams documents it."""
    body: list[dict[str, Any]] = [
        _rich(alert.headline, size="Large", weight="Bolder"),
        _rich(f"{alert.rule_name} · {alert.project_name}", isSubtle=True),
    ]
    for item in alert.items:
        parts: list[dict[str, Any]] = [
            _rich(item.title, weight="Bolder"),
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [_rich(label, weight="Bolder") for label, _ in item.facts],
                    },
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [_rich(value) for _, value in item.facts],
                    },
                ],
            },
        ]
        if item.quote:
            parts.append(_rich(item.quote, italic=True))
        parts.append(
            {
                "type": "ActionSet",
                "actions": [{"type": "Action.OpenUrl", "title": item.link_label, "url": item.link}],
            }
        )
        body.append({"type": "Container", "separator": True, "items": parts})
    if alert.more:
        body.append(_rich(f"and {alert.more} more not shown here", isSubtle=True))
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if alert.more and alert.more_link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open all", "url": alert.more_link}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD_TYPE, "contentUrl": None, "content": card}],
    }


def email_subject(alert: Alert) -> str:
    return _cut(single_line(f"{alert.headline} · {alert.rule_name}"), 200)


def email_text(alert: Alert) -> str:
    lines = [alert.headline, f"{alert.rule_name} · {alert.project_name}", ""]
    for item in alert.items:
        lines.append(item.title)
        lines.extend(f"  {label}: {value}" for label, value in item.facts)
        if item.quote:
            lines.extend(f"  > {line}" for line in item.quote.splitlines())
        lines.extend([f"  {item.link_label}: {item.link}", ""])
    if alert.more and alert.more_link:
        lines.append(f"and {alert.more} more: {alert.more_link}")
    return "\n".join(lines) + "\n"


def email_html(alert: Alert) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><body>",
        f"<h1>{e(alert.headline)}</h1>",
        f"<p>{e(alert.rule_name)} · {e(alert.project_name)}</p>",
    ]
    for item in alert.items:
        parts.append(f"<h2>{e(item.title)}</h2><table>")
        parts.extend(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in item.facts)
        parts.append("</table>")
        if item.quote:
            parts.append(f"<blockquote>{e(item.quote)}</blockquote>")
        parts.append(f'<p><a href="{e(item.link)}">{e(item.link_label)}</a></p>')
    if alert.more and alert.more_link:
        parts.append(f'<p><a href="{e(alert.more_link)}">and {alert.more} more</a></p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def email_message(alert: Alert, sender: str, recipient: str, domain: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = email_subject(alert)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("alert", domain=domain)
    # Sent by a machine: auto-responders should stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email_text(alert))
    message.add_alternative(email_html(alert), subtype="html")
    return message
