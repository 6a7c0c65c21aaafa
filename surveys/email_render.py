"""The survey email: subject, plain-text and HTML parts from Jinja templates, and the message.

Texts are localized by the person's locale (built-in en, ru, zh; per-survey overrides of
subject, intro and question); links are made by the caller, which signs them.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from surveys.email_texts import EMAIL_TEXTS
from surveys.texts import DEFAULT_PRODUCT, base_locale, question_text

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"
SCORES = range(11)


@dataclass(frozen=True)
class EmailInput:
    locale: str | None
    person_name: str | None
    product_name: str | None
    question: dict[str, Any]
    subject: dict[str, Any]
    intro: dict[str, Any]
    score_urls: list[str]
    unsubscribe_url: str
    reminder: bool = False


@dataclass(frozen=True)
class EmailParts:
    subject: str
    text: str
    html: str
    lang: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _override(overrides: dict[str, Any], locale: str | None, default: str) -> str:
    """The survey's text for 'ru-RU', else for 'ru', else the built-in one."""
    for key in (locale, base_locale(locale)):
        value = (overrides or {}).get(key) if key else None
        if isinstance(value, str) and value:
            return value
    return default


def render_email(data: EmailInput) -> EmailParts:
    if len(data.score_urls) != len(SCORES):
        raise ValueError("eleven score links (0–10) are needed")
    lang = base_locale(data.locale)
    texts = EMAIL_TEXTS[lang]
    product = data.product_name or DEFAULT_PRODUCT[lang]
    subject = _override(data.subject, data.locale, texts["subject"]).replace("{product}", product)
    if data.reminder:
        subject = texts["reminder"].replace("{subject}", subject)
    intro = _override(data.intro, data.locale, texts["intro"])
    greeting = (
        texts["greeting"].replace("{name}", data.person_name)
        if data.person_name
        else texts["greeting_anonymous"]
    )
    context = {
        "lang": lang,
        "subject": subject,
        "greeting": greeting,
        "intro": intro.replace("{product}", product),
        "question": question_text(data.question, data.product_name, data.locale or lang),
        "links": list(zip(SCORES, data.score_urls, strict=True)),
        "unsubscribe_url": data.unsubscribe_url,
        "t": {k: v.replace("{product}", product) for k, v in texts.items()},
    }
    env = _environment()
    return EmailParts(
        subject=subject,
        text=env.get_template("invitation.txt").render(context),
        html=env.get_template("invitation.html").render(context),
        lang=lang,
    )


def _header(value: str) -> str:
    """ASCII as is; anything else as an RFC 2047 encoded word (Subject, display names)."""
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=998)


def _base64(text: str) -> bytes:
    return base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")


def build_message(
    parts: EmailParts,
    *,
    sender: str,
    recipient: str,
    recipient_name: str | None,
    message_id: str,
    unsubscribe_url: str,
    date: str | None = None,
) -> bytes:
    """The message as sent (CRLF lines): multipart/alternative, text then HTML, with the
    RFC 8058 one-click unsubscribe headers.

    Written directly rather than through `email.message`: its header folding cost more
    than the SMTP conversation itself, and every header here is one we control.
    """
    name, address = parseaddr(sender)
    boundary = f"=_fw_{uuid.uuid4().hex}"
    headers = [
        ("From", formataddr((name, address))),
        ("To", formataddr((recipient_name or "", recipient))),
        ("Subject", _header(parts.subject)),
        ("Date", date or formatdate(usegmt=True)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
        ("Content-Language", parts.lang),
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        # Bulk mail that auto-responders should not answer (RFC 3834).
        ("Auto-Submitted", "auto-generated"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    head = "".join(f"{key}: {value}\r\n" for key, value in headers).encode()
    body = b"".join(
        b"--%s\r\nContent-Type: text/%s; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%s"
        % (boundary.encode(), subtype, _base64(content))
        for subtype, content in ((b"plain", parts.text), (b"html", parts.html))
    )
    return head + b"\r\n" + body + b"--%s--\r\n" % boundary.encode()


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"
