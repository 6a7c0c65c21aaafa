"""Digest fixtures: the app sends to the real SMTP sink of the email tests; answers over two
quarters (movers both ways, revenue) and two weeks; members who opt in; stored friction
points."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

import pytest
from PIL import Image

from service.db import db
from surveys.accounts.roles import Role
from surveys.loop.digest_subscriptions import set_cadence
from surveys.models import FrictionPoint, ThemeRun
from tests.answers import answer
from tests.app.conftest import add_user
from tests.app.data import Data, make_answers
from tests.email.conftest import email_app, smtp_sink  # noqa: F401 (the real SMTP sink)
from tests.email.test_link_browser import browser  # noqa: F401 (headless Chromium)

# A Wednesday: the digest covers the week before, 2026-W27 (29 June to 5 July).
NOW = datetime(2026, 7, 8, 10, 0)
WEEK = "2026-W27"
WEEK_END = "2026-07-06T00:00:00Z"
# The trend's first week: eight weeks end with 2026-W27.
TREND_START = "2026-05-11T00:00:00Z"
# Each week's answers: W26 scores 10, 9, 2 and W27 scores 3, 9, 10: NPS (2 - 1) / 3 = 33.33
# in both, so the change is 0 and not significant.
WEEKLY = [
    ("fay", 10, "2026-06-24T09:00:00Z", None),
    ("gus", 9, "2026-06-24T10:00:00Z", None),
    ("hal", 2, "2026-06-25T10:00:00Z", "Invoices are wrong"),
    ("fay", 3, "2026-07-01T09:00:00Z", "The export broke"),
    ("ivy", 9, "2026-07-01T10:00:00Z", None),
    ("jon", 10, "2026-07-02T10:00:00Z", "Great support"),
]
# (label, rank, share, impact, revenue, direction, slope): ranked by impact; "Slow exports"
# grows fastest.
POINTS = [
    ("Billing errors", 1, 0.30, 12.5, 1500.0, "stable", 0.5),
    ("Slow exports", 2, 0.25, 9.0, 300.0, "growing", 7.5),
    ("Support delays", 3, 0.20, 6.0, None, "growing", 3.0),
    ("Login trouble", 4, 0.10, 2.0, 50.0, "shrinking", -4.0),
]
METRIC = re.compile(r'data-metric="(\w+)" data-value="([^"]*)"')


@pytest.fixture
def app(database_url, tmp_path, smtp_sink):  # noqa: F811 (the imported fixture)
    app = email_app(database_url, tmp_path / "var", smtp_sink.url)
    yield app
    app.extensions["db_engine"].dispose()


@dataclass(frozen=True)
class Answers:
    data: Data
    run_id: int


def add_points(app, project_id: int) -> int:
    with app.app_context():
        run = ThemeRun(project_id=project_id, status="done", finished_at=NOW)
        db().add(run)
        db().flush()
        for i, (label, rank, share, impact, revenue, direction, slope) in enumerate(POINTS):
            db().add(
                FrictionPoint(
                    run_id=run.id,
                    project_id=project_id,
                    cluster=i,
                    rank=rank,
                    label=label,
                    size=int(share * 100),
                    share=share,
                    nps_impact=impact,
                    revenue_at_risk=revenue,
                    trend_direction=direction,
                    trend_slope=slope,
                )
            )
        db().commit()
        return run.id


@pytest.fixture
def answers(app, api, project) -> Answers:
    data = make_answers(api)
    for who, score, when, comment in WEEKLY:
        answer(api, data.survey_id, who, score, when, comment=comment, properties={"mrr": 10})
    return Answers(data, add_points(app, project.id))


def subscribe(app, project_id: int, email: str, role: Role = Role.OWNER, cadence="weekly"):
    member = add_user(app, project_id, email, role)
    with app.app_context():
        set_cadence(db(), member.id, project_id, cadence)
        db().commit()
    return member


def digests_to(sink, recipient: str) -> list:
    return [r.message for r in sink.received if recipient in r.rcpt_tos]


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def metrics(html: str) -> dict[str, str]:
    return dict(METRIC.findall(html))


def images(message) -> dict[str, Image.Image]:
    """The inline PNG parts by content id (without brackets), each opened by Pillow."""
    out = {}
    for part in message.walk():
        if part.get_content_type() == "image/png":
            image = Image.open(io.BytesIO(part.get_content()))
            image.load()
            out[part["Content-ID"].strip("<>")] = image
    return out
