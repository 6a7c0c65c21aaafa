"""The digest email: plain-text and HTML parts from Jinja templates, the charts as inline PNG
parts, and the message as sent.

The message is multipart/alternative (text, then multipart/related holding the HTML and its
images, referenced as `cid:`), which every mail client shows without loading anything from
the network. Headers are written by the standard library's SMTP policy; the one-click
unsubscribe headers follow RFC 8058.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from surveys.email.render import sender_domain
from surveys.loop import digest_charts
from surveys.loop.digest import Digest
from surveys.memo import memo

TEMPLATES = Path(__file__).resolve().parent / "templates"
UNIT_WORDS = {"week": "week", "month": "month"}


@memo(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


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
    if digest.nps is None or digest.nps["nps"] is None:
        return f"{digest.project_name}: your NPS digest for {period}"
    nps = digest.nps
    return (
        f"{digest.project_name}: NPS {_num(nps['nps'])} ± {_num(nps['margin_of_error'])} "
        f"for {period}"
    )


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
    env = _environment()
    return (
        env.get_template("digest.txt").render(context),
        env.get_template("digest.html").render(context),
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
    """The message as sent. `images` are the digest's charts when the caller drew them once
    for every recipient (a content id need only be unique within its message)."""
    domain = sender_domain(sender)
    if images is None:
        images = charts(digest, domain)
    text, html = render_parts(digest, links, images, sees_emails=sees_emails)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject(digest)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("digest", domain=domain)
    # Answered by nobody: auto-responders should stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if links.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{links.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for chart in images:
        html_part.add_related(
            chart.png,
            maintype="image",
            subtype="png",
            cid=f"<{chart.cid}>",
            filename=f"{chart.cid.split('.', 1)[0]}.png",
            disposition="inline",
        )
    return message.as_bytes()
