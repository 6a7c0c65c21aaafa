"""A small inline corpus with five clear themes (three English, one Russian, one Chinese) and
the numbers each theme must get, worked out by hand in the comments below."""

from __future__ import annotations

from dataclasses import dataclass

from service.db import db
from surveys import answers, people
from surveys.clock import utcnow

Q1, Q2, Q3, Q4 = "2025-02-15", "2025-05-15", "2025-08-15", "2025-11-15"
UNTIL = "2026-01-01T00:00:00Z"  # trend quarters: 2025-Q1 .. 2025-Q4


@dataclass(frozen=True)
class Row:
    theme: str  # "" for promoters (not clustered by default)
    person: str
    score: int | None  # None: free-form feedback (no survey, no score)
    text: str | None
    day: str
    mrr: object = None


ROWS = [
    # billing: 6 comments; people a1..a5 (a1 twice). Detractors {a1,a2,a3} = 3, passives
    # {a4,a5} = 2, average (2+0+3+5+7+8)/6 = 4.17; revenue a1 100 + a2 50 + a3 25 = 175 (a4's
    # "fifty" is not a number); counted detractors a1 (latest: 0), a2, a3 = 3.
    Row("billing", "a1", 2, "I was charged twice this month, refund the double charge", Q4, 100),
    Row(
        "billing", "a1", 0, "Charged twice again, the double charge is still not refunded", Q4, 100
    ),
    Row("billing", "a2", 3, "Double charge on my credit card, refund the charge please", Q4, 50),
    Row("billing", "a3", 5, "The invoice charged my card twice, I need a refund", Q3, 25),
    Row("billing", "a4", 7, "Billing charged my card twice, the refund took weeks", Q3, "fifty"),
    Row("billing", "a5", 8, "Refund for the double charge on my card was slow", Q2),
    # slow: 5 comments. Detractors {b1,b2,b4,b5} = 4, passives {b3} = 1, average 24/5 = 4.8;
    # revenue 10 + 20 = 30; b4 later answers 10, so counted detractors b1, b2, b5 = 3.
    Row("slow", "b1", 4, "The app is very slow, pages take forever to load", Q1, 10),
    Row("slow", "b2", 6, "Very slow app, every page takes forever to load", Q1, 20),
    Row("slow", "b3", 7, "Slow loading pages, the app takes forever", Q2),
    Row("slow", "b4", 1, "The app is so slow that pages take forever to load", Q2),
    Row("slow", "b5", 6, "Pages load slowly, the app is very slow", Q3),
    Row("", "b4", 10, None, Q4),
    # login: 4 comments, 4 detractors, all counted; average 1.5; no mrr -> revenue null.
    Row("login", "c1", 0, "I cannot log in, the password reset email never arrives", Q1),
    Row("login", "c2", 1, "Cannot log in and the password reset email never came", Q2),
    Row("login", "c3", 2, "Password reset email never arrives so I cannot log in", Q3),
    Row("login", "c4", 3, "Log in fails, password reset email does not arrive", Q4),
    # delivery (Russian, inflected): 4 comments, detractors 3, passives 1, average 4.25.
    Row("delivery", "d1", 3, "Доставка опоздала на три дня, курьер опоздал", Q4),
    Row("delivery", "d2", 2, "Опять опоздание доставки, курьер опоздал", Q4),
    Row("delivery", "d3", 7, "Курьер опоздал с доставкой на два дня", Q4),
    Row("delivery", "d4", 5, "Доставку задержали, курьер опаздывает с доставкой", Q4),
    # support (Chinese, no spaces): 2 scored detractors + 2 free-form feedback; average 3.0.
    Row("support", "e1", 2, "客服态度很差，一直不回复消息", Q3),
    Row("support", "e2", 4, "客服不回复消息，态度太差了", Q3),
    Row("support", "e3", None, "客服回复消息太慢，态度很差", Q4),
    Row("support", "e4", None, "联系客服没人回复消息，态度差", Q4),
    # promoters: in the NPS base (N), not clustered by default.
    *[Row("", f"p{i}", 9 + i % 2, "Great product, love it", Q2) for i in range(1, 6)],
]

# N = 25 scored people: a1..a5, b1..b5, c1..c4, d1..d4, e1, e2, p1..p5.
# Counted: promoters p1..p5 + b4 = 6, detractors 3+3+4+3+2 = 15, passives 4: NPS = -36.
RESPONDENTS, OVERALL_NPS, COMMENTS = 25, -36.0, 23
EXPECTED = {
    # theme: (size, detractors, passives, average, impact = 100·D/25, revenue, quarter counts)
    "billing": (6, 3, 2, 4.17, 12.0, 175.0, [0, 1, 2, 3]),
    "slow": (5, 4, 1, 4.8, 12.0, 30.0, [2, 2, 1, 0]),
    "login": (4, 4, 0, 1.5, 16.0, None, [1, 1, 1, 1]),
    "delivery": (4, 3, 1, 4.25, 12.0, None, [0, 0, 0, 4]),
    "support": (4, 2, 0, 3.0, 8.0, None, [0, 0, 2, 2]),
}
QUARTER_TOTALS = [3, 4, 6, 10]
# Shares per quarter in points, least-squares slope over x = 0..3 (Σ(x−x̄)(y−ȳ) / 5):
# billing 0, 25, 33.33, 30 -> +9.833; slow 66.67, 50, 16.67, 0 -> −23.333;
# login 33.33, 25, 16.67, 10 -> −7.833; delivery 0, 0, 0, 40 -> +12.0;
# support 0, 0, 33.33, 20 -> +9.333.
SLOPES = {"billing": 9.833, "slow": -23.333, "login": -7.833, "delivery": 12.0, "support": 9.333}
# impact desc, then size desc: login 16; billing, slow, delivery 12 (sizes 6, 5, 4); support 8.
RANKED = ["login", "billing", "slow", "delivery", "support"]


def load(api, app, rows=ROWS) -> dict[str, list[int]]:
    """Store the rows (scored ones through the API, feedback through the domain function);
    returns the response ids of each theme."""
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    ids: dict[str, list[int]] = {}
    for n, row in enumerate(rows):
        props = {"mrr": row.mrr} if row.mrr is not None else {}
        created = f"{row.day}T12:{n % 60:02d}:00Z"
        if row.score is None:
            response_id = add_feedback(app, api.keys.id, row.person, row.text, created, props)
        else:
            body = {
                "survey_id": survey["id"],
                "person": {"external_id": row.person},
                "score": row.score,
                "comment": row.text,
                "created_at": created,
                "properties": props,
            }
            r = api.post("/api/v1/responses", json=body)
            assert r.status_code == 201, r.json
            response_id = r.json["id"]
        ids.setdefault(row.theme, []).append(response_id)
    ids["_survey"] = [survey["id"]]
    return ids


def add_feedback(app, project_id, person, text, created=None, props=None) -> int:
    """Free-form in-product feedback: no survey, no score (the widget's door)."""
    from datetime import datetime

    with app.app_context():
        session = db()
        who, _ = people.upsert_person(session, project_id, {"external_id": person}, trusted=True)
        answer = answers.Answer(
            survey_id=None,
            score=None,
            comment=text,
            channel="widget",
            created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
            properties=props,
        )
        response, _ = answers.record_answer(session, project_id, who, answer, now=utcnow())
        session.commit()
        return response.id
