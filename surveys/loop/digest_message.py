"""The digest email: plain-text and HTML parts from Jinja templates, the charts as inline PNG
parts, and the message as sent.

The message is multipart/alternative (text, then multipart/related holding the HTML and its
images, referenced as `cid:`), which every mail client shows without loading anything from
the network. From, To and Subject are written by the standard library's SMTP policy; the
one-click unsubscribe headers follow RFC 8058. A digest goes to every subscriber of a project
alike, so it is rendered and its images encoded once (`prepare`), and each message only fills
in its recipient, date, message id and unsubscribe link, as the survey email does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from surveys.email.render import base64_lines, header_bytes, sender_domain, template_environment
from surveys.loop import digest_charts
from surveys.loop.digest import Digest
from surveys.plain_text import single_line

TEMPLATES = Path(__file__).resolve().parent / "templates"
UNIT_WORDS = {"week": "week", "month": "month"}


@dataclass(frozen=True)
class Chart:
    """One inline image: its content id (without brackets), bytes and alt text."""

    cid: str
    png: bytes
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class DigestLinks:
    app_url: str
    movement_url: str
    friction_url: str
    unsubscribe_url: str | None
    settings_url: str


def subject(digest: Digest) -> str:
    period = f"{UNIT_WORDS[digest.unit]} {digest.period.label}"
    # A project name stored before names were checked may hold a line break.
    name = single_line(digest.project_name)
    if digest.nps is None or digest.nps["nps"] is None:
        return f"{name}: your NPS digest for {period}"
    nps = digest.nps
    return f"{name}: NPS {_num(nps['nps'])} ± {_num(nps['margin_of_error'])} for {period}"


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def charts(digest: Digest, domain: str) -> list[Chart]:
    title = f"NPS per {UNIT_WORDS[digest.unit]}"
    out = [
        Chart(
            cid=make_msgid("trend", domain=domain)[1:-1],
            png=digest_charts.nps_trend(digest.trend, title),
            alt=digest_charts.trend_alt(digest.trend, title),
            width=digest_charts.TREND_SIZE[0],
            height=digest_charts.TREND_SIZE[1],
        )
    ]
    nps = digest.nps
    if nps and nps["responses"]:
        shares = (nps["promoters_pct"], nps["passives_pct"], nps["detractors_pct"])
        out.append(
            Chart(
                cid=make_msgid("segments", domain=domain)[1:-1],
                png=digest_charts.segment_bar(*shares),
                alt=digest_charts.bar_alt(*shares),
                width=digest_charts.BAR_SIZE[0],
                height=digest_charts.BAR_SIZE[1],
            )
        )
    return out


def render_parts(
    digest: Digest, links: DigestLinks, images: list[Chart], *, sees_emails: bool
) -> tuple[str, str]:
    """(text, html) of one recipient's digest."""
    context: dict[str, Any] = {
        "d": digest,
        "links": links,
        "charts": images,
        "sees_emails": sees_emails,
        "subject": subject(digest),
        "num": _num,
        "money": _money,
        "unit": UNIT_WORDS[digest.unit],
    }
    env = template_environment(TEMPLATES)
    return (
        env.get_template("digest.txt").render(context),
        env.get_template("digest.html").render(context),
    )


@dataclass(frozen=True)
class PreparedDigest:
    """A digest rendered once for every recipient alike: the parts with a marker where each
    recipient's unsubscribe link goes, the shared headers, and the images already encoded.
    A digest goes to every subscriber of a project; Jinja, the charts and the MIME encoding
    of the images then run once, not per message."""

    text: str
    html: str
    shared_headers: bytes
    images: bytes
    boundary: str
    domain: str
    unsubscribe: bool

    def message(
        self, recipient: str, unsubscribe_url: str | None, date: str | None = None
    ) -> bytes:
        """One recipient's message (CRLF lines), as sent."""
        if self.unsubscribe and not unsubscribe_url:
            raise ValueError("this digest was prepared with an unsubscribe link")
        url = unsubscribe_url or ""
        own = [
            header_bytes("To", recipient),
            header_bytes("Date", date or formatdate(usegmt=True)),
            header_bytes("Message-ID", make_msgid("digest", domain=self.domain)),
        ]
        if self.unsubscribe:
            own.append(f"List-Unsubscribe: <{url}>\r\n".encode())
        alternative, related = f"{self.boundary}a", f"{self.boundary}r"
        own.append(
            f'Content-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'.encode()
        )
        text = self.text.replace(UNSUBSCRIBE, url)
        html = self.html.replace(UNSUBSCRIBE, url)
        body = (
            f"--{alternative}\r\n".encode()
            + _part_head("text/plain; charset=utf-8")
            + base64_lines(text.encode())
            + f"--{alternative}\r\n".encode()
            + f'Content-Type: multipart/related; boundary="{related}"; '
            f'type="text/html"\r\n\r\n--{related}\r\n'.encode()
            + _part_head("text/html; charset=utf-8")
            + base64_lines(html.encode())
            + self.images.replace(_RELATED, related.encode())
            + f"--{related}--\r\n--{alternative}--\r\n".encode()
        )
        return self.shared_headers + b"".join(own) + body


UNSUBSCRIBE = "\x00fw:unsubscribe\x00"
_RELATED = b"\x00fw:related\x00"


def _part_head(content_type: str, *extra: str) -> bytes:
    lines = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def prepare(
    digest: Digest,
    *,
    links: DigestLinks,
    sender: str,
    sees_emails: bool,
    images: list[Chart] | None = None,
) -> PreparedDigest:
    """`links.unsubscribe_url` says whether the messages carry an unsubscribe link (any
    value: each recipient's own is filled in by `PreparedDigest.message`)."""
    domain = sender_domain(sender)
    if images is None:
        images = charts(digest, domain)
    unsubscribe = links.unsubscribe_url is not None
    marked = replace(links, unsubscribe_url=UNSUBSCRIBE if unsubscribe else None)
    text, html = render_parts(digest, marked, images, sees_emails=sees_emails)
    shared = [
        header_bytes("From", sender),
        header_bytes("Subject", subject(digest)),
        b"MIME-Version: 1.0\r\n",
        # Answered by nobody: auto-responders should stay quiet (RFC 3834).
        b"Auto-Submitted: auto-generated\r\n",
    ]
    if unsubscribe:
        shared.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    encoded = b"".join(
        b"--"
        + _RELATED
        + b"\r\n"
        + _part_head(
            "image/png",
            f"Content-ID: <{chart.cid}>",
            f'Content-Disposition: inline; filename="{chart.cid.split(".", 1)[0]}.png"',
        )
        + base64_lines(chart.png)
        for chart in images
    )
    return PreparedDigest(
        text=text,
        html=html,
        shared_headers=b"".join(shared),
        images=encoded,
        boundary=f"=_fwd_{uuid.uuid4().hex}",
        domain=domain,
        unsubscribe=unsubscribe,
    )


def build_message(
    digest: Digest,
    links: DigestLinks,
    *,
    sender: str,
    recipient: str,
    sees_emails: bool,
    images: list[Chart] | None = None,
) -> bytes:
    """One message, prepared and filled in at once (the CLI, a single recipient)."""
    prepared = prepare(digest, links=links, sender=sender, sees_emails=sees_emails, images=images)
    return prepared.message(recipient, links.unsubscribe_url)
