"""The survey email: subject, plain-text and HTML parts from Jinja templates, and the message.

Texts are localized by the person's locale (built-in en, ru, zh; per-survey overrides of
subject, intro and question); links are made by the caller, which signs them.

A dispatcher sends one survey's email to thousands of people who differ only in their name
and two link tokens, so `email_template` renders it once with markers in those places and
`EmailTemplate.fill` puts each person's values in: the same text as `render_email`, without
running Jinja per message.
"""

from __future__ import annotations

import binascii
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from surveys.email_texts import EMAIL_TEXTS
from surveys.texts import DEFAULT_PRODUCT, base_locale, question_text

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"
SCORES = range(11)
# Markers for the per-person values of an `email_template`: a NUL byte never occurs in the
# templates, and survey texts with one could at worst show the recipient their own values.
NAME = "\x00fw:name\x00"
SCORE_TOKEN = "\x00fw:score\x00"
UNSUBSCRIBE_TOKEN = "\x00fw:unsubscribe\x00"
_SLOTS = (NAME, SCORE_TOKEN, UNSUBSCRIBE_TOKEN)
_SLOT_RE = re.compile("(" + "|".join(map(re.escape, _SLOTS)) + ")")
_BASE64_LINE = re.compile(b".{1,76}")


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


@dataclass(frozen=True)
class _Filled:
    """Rendered text cut at the markers: literal pieces, and between two of them the index
    (into `_SLOTS`) of the value that goes there."""

    pieces: tuple[str, ...]
    slots: tuple[int, ...]

    @classmethod
    def cut(cls, rendered: str) -> _Filled:
        parts = _SLOT_RE.split(rendered)
        return cls(tuple(parts[::2]), tuple(_SLOTS.index(mark) for mark in parts[1::2]))

    def fill(self, values: tuple[str, str, str]) -> str:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(values[slot])
            out.append(piece)
        return "".join(out)


@dataclass(frozen=True)
class EmailTemplate:
    """One survey's email for one locale and kind, rendered once (see `email_template`)."""

    subject: str
    lang: str
    text: _Filled
    html: _Filled

    def fill(self, name: str | None, score_token: str, unsubscribe_token: str) -> EmailParts:
        """The parts for one person: what `render_email` gives with their name and links."""
        raw = (name or "", score_token, unsubscribe_token)
        escaped = (str(escape(raw[0])), str(escape(score_token)), str(escape(unsubscribe_token)))
        return EmailParts(self.subject, self.text.fill(raw), self.html.fill(escaped), self.lang)


def email_template(data: EmailInput) -> EmailTemplate:
    """Render once, with `NAME` as the person's name (or None: the anonymous greeting) and
    `SCORE_TOKEN` / `UNSUBSCRIBE_TOKEN` in the links where each person's tokens go."""
    parts = render_email(data)
    return EmailTemplate(
        parts.subject, parts.lang, _Filled.cut(parts.text), _Filled.cut(parts.html)
    )


# Cached: a handful of subjects and senders per pass, and folding them costs more than the
# rest of the message.
@lru_cache(maxsize=256)
def _header(value: str) -> str:
    """ASCII as is; anything else as an RFC 2047 encoded word (Subject, display names)."""
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=998)


@lru_cache(maxsize=16)
def _sender(sender: str) -> str:
    return formataddr(parseaddr(sender))


def _base64(text: str) -> bytes:
    """Base64 in CRLF-terminated lines of 76 characters (RFC 2045)."""
    encoded = binascii.b2a_base64(text.encode(), newline=False)
    return b"\r\n".join([*_BASE64_LINE.findall(encoded), b""])


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
    boundary = f"=_fw_{uuid.uuid4().hex}"
    headers = [
        ("From", _sender(sender)),
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


def sender_address(sender: str) -> str:
    """The bare address of `MAIL_FROM`: the SMTP envelope sender."""
    return parseaddr(sender)[1]


def sender_domain(sender: str) -> str:
    address = sender_address(sender)
    return address.rpartition("@")[2] or "localhost"
