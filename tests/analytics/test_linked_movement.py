"""Movement, movers and recovery between consecutive periods read the linked period answers
(each row carrying its person's previous-period score, weight and rise): equal to pairing the two
periods' rows, the path a project whose rows are being rebuilt takes, after late answers,
rescoring, exclusions, erasure and bulk writes; the links equal a rebuild's and what the rows
themselves say."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from service.db import db
from surveys import period_answers
from surveys.analytics.movement import MovementQuery, is_linked_pair, movement, resolve_pair
from surveys.analytics.movers import MOVEMENT_KINDS, SEGMENT_FILTERS, MoversQuery, list_movers
from surveys.loop.recovery import recovery
from surveys.models import Project
from tests.analytics.helpers import assert_linked, exclude, rebuilt, rows
from tests.answers import answer
from tests.conftest import Api, make_project

NOW = datetime(2027, 2, 1)
DAYS = ("2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15")
# JSON numbers weigh; a string, a boolean or no value do not.
PROPERTIES = ({"mrr": 12.5}, {"mrr": 40}, {}, {"mrr": "lots"}, {"mrr": True}, {"mrr": 7})
PAIRS = (
    ("quarter", "2026-Q1", "2026-Q2"),
    ("quarter", "2026-Q2", "2026-Q3"),
    ("quarter", "2026-Q3", "2026-Q4"),
    ("month", "2026-03", "2026-04"),
    ("month", "2026-06", "2026-07"),
)


def _history(api: Api, survey_id: int, people: int = 30, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    made = []
    for i in range(people):
        for day in DAYS:
            if rng.random() < 0.25:
                continue  # new or lapsed next time
            for hour in range(rng.choice((1, 1, 2))):
                made.append(
                    answer(
                        api,
                        survey_id,
                        f"p{i}",
                        rng.randint(0, 10),
                        f"{day}T{10 + hour}:00:00Z",
                        properties=rng.choice(PROPERTIES),
                    )
                )
    for r in rng.sample(made, 15):
        body = rng.choice(({"status": "resolved", "reason": "called"}, {"status": "contacted"}))
        got = api.patch(f"/api/v1/responses/{r['id']}/follow-up", json=body)
        assert got.status_code == 200, got.json
    return made


def _edits(api: Api, survey_id: int, made: list[dict], seed: int = 11) -> None:
    """Late answers into earlier quarters (they change what the next quarter moved from),
    rescoring, exclusions and back, and an erasure."""
    rng = random.Random(seed)
    for i in range(0, 30, 3):
        answer(api, survey_id, f"p{i}", rng.randint(0, 10), "2026-03-30T09:00:00Z")
        answer(api, survey_id, f"p{i + 1}", rng.randint(0, 10), "2026-06-29T09:00:00Z",
               properties={"mrr": 99})  # fmt: skip
    for r in rng.sample(made, 12):
        exclude(api, r)
    for r in rng.sample(made, 6):
        got = api.patch(f"/api/v1/responses/{r['id']}", json={"excluded": False})
        assert got.status_code == 200, got.json
    for r in rng.sample(made, 6):
        got = api.patch(f"/api/v1/responses/{r['id']}", json={"score": rng.randint(0, 10)})
        assert got.status_code in (200, 409, 422), got.json
    gone = made[len(made) // 2]["person_id"]
    assert api.delete(f"/api/v1/people/{gone}").status_code == 204


def _linked_and_paired(app, project_id: int, read):
    """`read(session, project)` from the linked rows, then while the rows count as being
    rebuilt (the paired path); nothing is committed."""
    with app.app_context():
        session = db()
        project = session.get(Project, project_id)
        assert period_answers.is_current(project)
        linked = read(session, project)
        period_answers.mark_stale(session, project)
        paired = read(session, project)
        session.rollback()
    return linked, paired


def _movers(session, project, q: MoversQuery, worst_first: bool) -> list[tuple]:
    """Every page of movers, as comparable tuples."""
    out, after, offset = [], None, 0
    while True:
        page = list_movers(
            session,
            project,
            q,
            NOW,
            limit=7,
            after=None if worst_first else after,
            worst_first_offset=offset if worst_first else None,
        )
        out += [
            (
                m.person.id,
                m.from_segment,
                m.to_segment,
                m.movement,
                m.from_response.id if m.from_response else None,
                m.to_response.id if m.to_response else None,
            )
            for m in page.items
        ]
        if page.next_after is None:
            return out
        after, offset = page.next_after, page.next_after


def _check(app, keys, survey_id: int) -> None:
    kept = rows(app, keys.id, linked=True)
    assert kept == rebuilt(app, keys.id, linked=True)
    assert_linked(kept)
    assert any(row[7] is not None for row in kept)  # some people answered two periods running
    for unit, a, b in PAIRS:
        for weight in (None, "property:mrr", "property:seats"):
            q = MovementQuery(survey_id, unit, a, b, weight_property=weight)

            def read(session, project, q=q):
                pa, pb = resolve_pair(project, q, NOW)
                assert is_linked_pair(project, q.unit, pa, pb) == period_answers.is_current(project)
                return movement(session, project, q, NOW)

            linked, paired = _linked_and_paired(app, keys.id, read)
            assert linked == paired, (unit, a, b, weight)
        linked, paired = _linked_and_paired(
            app, keys.id, lambda s, p, u=unit, a=a: recovery(s, p, survey_id, u, a, NOW)
        )
        assert linked == paired, (unit, a, "recovery")
        pair = MovementQuery(survey_id, unit, a, b)
        queries = [MoversQuery(pair, movement=kind) for kind in (None, *MOVEMENT_KINDS)]
        queries += [MoversQuery(pair, from_segment=s) for s in SEGMENT_FILTERS]
        queries += [MoversQuery(pair, to_segment=s) for s in SEGMENT_FILTERS]
        queries += [
            MoversQuery(pair, "promoter", "detractor"),
            MoversQuery(pair, "none", "passive"),
        ]
        for mq in queries:
            for worst_first in (False, True):
                linked, paired = _linked_and_paired(
                    app, keys.id, lambda s, p, mq=mq, w=worst_first: _movers(s, p, mq, w)
                )
                assert linked == paired, (unit, a, b, mq, worst_first)


def test_linked_movement_equals_paired_after_edits(app, api, project, survey_id):
    made = _history(api, survey_id)
    _check(app, project, survey_id)
    _edits(api, survey_id, made)
    _check(app, project, survey_id)


def test_worst_drops_come_first(app, api, project, survey_id):
    for who, a, b in (("a", 9, 9), ("b", 10, 2), ("c", 8, 3), ("d", 3, 10), ("e", 9, 8)):
        answer(api, survey_id, who, a, "2026-02-01T10:00:00Z")
        answer(api, survey_id, who, b, "2026-05-01T10:00:00Z")
    answer(api, survey_id, "f", 1, "2026-05-01T10:00:00Z")  # new
    with app.app_context():
        session = db()
        project_row = session.get(Project, project.id)
        q = MoversQuery(MovementQuery(survey_id, "quarter", "2026-Q1", "2026-Q2"), movement="moved")
        page = list_movers(session, project_row, q, NOW, limit=100, after=None,
                           worst_first_offset=0)  # fmt: skip
        got = [(m.person.external_id, m.from_segment, m.to_segment) for m in page.items]
    assert got == [
        ("b", "promoter", "detractor"),
        ("c", "passive", "detractor"),
        ("e", "promoter", "passive"),
        ("d", "detractor", "promoter"),
    ]


@pytest.mark.parametrize("zone", ["America/New_York"])
def test_links_in_a_time_zone_and_after_its_change(app, client, zone):
    keys = make_project(app, "New York Co", zone)
    api = Api(client, keys)
    survey_id = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    # 02:00 UTC on 1 April is 31 March in New York: Q1 there, linked to Q2's answer.
    answer(api, survey_id, "a", 10, "2026-04-01T02:00:00Z", properties={"mrr": 5})
    answer(api, survey_id, "a", 1, "2026-04-02T12:00:00Z", properties={"mrr": 8})
    kept = rows(app, keys.id, linked=True)
    assert_linked(kept, zone)
    q2 = {r[1]: r for r in kept if r[2] in ("2026-Q2", "2026-04")}
    assert q2["quarter"][7:] == (10, 5.0, -2)
    assert q2["month"][7:] == (10, 5.0, -2)
    assert kept == rebuilt(app, keys.id, linked=True)
