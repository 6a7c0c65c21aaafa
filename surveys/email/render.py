"""The survey email: subject, plain-text and HTML parts from Jinja templates, and the message.

Texts are localized by the person's locale (built-in en, ru, zh; per-survey overrides of
subject, intro and question); links are made by the caller, which signs them.

The headers that carry stored texts (To, Subject) and the sender are written by the standard
library's SMTP policy, so no value can start a header of its own; a stored name with control
characters (from before names were checked) is left out of the message altogether.

A dispatcher sends one survey's email to thousands of people who differ only in their name
and two link tokens, so `email_template` renders it once with markers in those places and
`EmailTemplate.fill` puts each person's values in: the same text as `render_email`, without
running Jinja per message.
"""

from __future__ import annotations

import binascii
import email.policy
import re
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from surveys.email.texts import EMAIL_TEXTS
from surveys.memo import memo
from surveys.plain_text import is_single_line, single_line
from surveys.texts import DEFAULT_PRODUCT, base_locale, question_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCORES = range(11)
# Markers for the per-person values of an `email_template`: a NUL byte never occurs in the
# templates, and survey texts with one could at worst show the recipient their own values.
NAME = "\x00fw:name\x00"
SCORE_TOKEN = "\x00fw:score\x00"
UNSUBSCRIBE_TOKEN = "\x00fw:unsubscribe\x00"
_SLOTS = (NAME, SCORE_TOKEN, UNSUBSCRIBE_TOKEN)
_SLOT_RE = re.compile("(" + "|".join(map(re.escape, _SLOTS)) + ")")
_BASE64_LINE = re.compile(b".{1,76}")
# SMTP's CRLF lines, 78-column folding, RFC 2047 for non-ASCII, and a ValueError for a value
# with a line break (it never becomes two headers).
_POLICY = email.policy.SMTP


class UnsendableAddress(ValueError):
    """The recipient address cannot be written into a message (stored before it was checked,
    or beyond ASCII, which the transport does not offer)."""


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


@memo(maxsize=4)
def template_environment(folder: Path) -> Environment:
    """The Jinja environment of one folder of mail templates (survey mail, the digest): HTML
    escaped, undefined names an error; compiled templates kept for the process."""
    return Environment(
        loader=FileSystemLoader(folder),
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
    env = template_environment(TEMPLATES)
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


def usable_name(name: str | None) -> str | None:
    """The name to greet and address someone by; None for a name with control characters,
    which only a row stored before names were checked can hold."""
    return name if name and is_single_line(name) else None


def header_bytes(name: str, value: str | Address) -> bytes:
    """One header as SMTP's policy folds it (a line break in `value` raises)."""
    return _POLICY.fold_binary(*_POLICY.header_store_parse(name, value))


# Cached: a handful of senders, subjects and languages per pass, and the policy's parsing
# and folding costs more than the rest of the message.
@memo(maxsize=256)
def _shared_headers(sender: str, subject: str, lang: str) -> bytes:
    """The headers every message of one template carries."""
    return b"".join(
        header_bytes(key, value)
        for key, value in (
            ("From", sender),
            # Survey texts stored before they were checked may hold line breaks.
            ("Subject", single_line(subject)),
            ("MIME-Version", "1.0"),
            ("Content-Language", lang),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            # Bulk mail that auto-responders should not answer (RFC 3834).
            ("Auto-Submitted", "auto-generated"),
        )
    )


def _to(recipient: str, name: str | None) -> bytes:
    if not recipient.isascii():
        raise UnsendableAddress(f"not an ASCII address: {recipient!r}")
    try:
        return header_bytes("To", Address(usable_name(name) or "", addr_spec=recipient))
    except Exception as exc:
        # The header registry's parser raises many kinds of error for a malformed address
        # (ValueError, HeaderParseError, defects, IndexError, ...); display names never do.
        raise UnsendableAddress(f"not a valid address: {recipient!r}") from exc


def base64_lines(data: bytes) -> bytes:
    """Base64 in CRLF-terminated lines of 76 characters (RFC 2045)."""
    encoded = binascii.b2a_base64(data, newline=False)
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
    RFC 8058 one-click unsubscribe headers. `UnsendableAddress` when the recipient's address
    cannot be written.

    From, To and Subject are written by the SMTP policy, as `EmailMessage` would write them;
    the other headers, made here from the code's and the operator's values (date, message
    id, unsubscribe link, boundary), and the MIME parts are written directly: a whole
    `EmailMessage` per message cost more than the SMTP conversation itself.
    """
    boundary = f"=_fw_{uuid.uuid4().hex}"
    own = (
        ("Date", date or formatdate(usegmt=True)),
        ("Message-ID", message_id),
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    )
    head = (
        _shared_headers(sender, parts.subject, parts.lang)
        + _to(recipient, recipient_name)
        + "".join(f"{key}: {value}\r\n" for key, value in own).encode()
    )
    body = b"".join(
        b"--%s\r\nContent-Type: text/%s; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%s"
        % (boundary.encode(), subtype, base64_lines(content.encode()))
        for subtype, content in ((b"plain", parts.text), (b"html", parts.html))
    )
    return head + b"\r\n" + body + b"--%s--\r\n" % boundary.encode()


def sender_address(sender: str) -> str:
    """The bare address of `MAIL_FROM`: the SMTP envelope sender."""
    return parseaddr(sender)[1]


def sender_domain(sender: str) -> str:
    address = sender_address(sender)
    return address.rpartition("@")[2] or "localhost"
