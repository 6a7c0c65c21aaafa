"""NPS per period (one window pass for overall and periods) against a Python reference.

Random answers with several per person and period, ties on the same instant, excluded ones
and weights: every bucket and the overall figure must equal a plain recount.
"""

import random
from datetime import datetime, timedelta

import pytest

from surveys.periods import period_of
from tests.analytics.helpers import exclude
from tests.answers import answer


def reference(rows, unit):
    """{bucket label or 'all': (responses, promoters, passives, detractors, weight sum)}."""
    latest = {}
    for row in rows:
        if row["excluded"] or row["mrr"] is None:
            continue
        for key in ("all", period_of(row["at"], unit, "UTC").label):
            mark = (row["at"], row["id"])
            if (key, row["who"]) not in latest or latest[key, row["who"]][0] < mark:
                latest[key, row["who"]] = (mark, row)
    out = {}
    for (key, _), (_, row) in latest.items():
        n, p, pa, d, w = out.get(key, (0, 0, 0, 0, 0.0))
        s = row["score"]
        out[key] = (n + 1, p + (s >= 9), pa + (7 <= s <= 8), d + (s <= 6), w + row["mrr"])
    return out


@pytest.mark.parametrize("unit", ["quarter", "month"])
def test_periods_and_overall_match_a_recount(api, survey_id, unit):
    rng = random.Random(7)
    start = datetime(2025, 11, 1)
    rows = []
    for i in range(70):
        who = f"p{rng.randrange(12)}"
        at = start + timedelta(hours=rng.randrange(0, 24 * 200, 12))
        score = rng.randrange(11)
        mrr = None if i % 9 == 0 else rng.randrange(1, 100)
        props = {} if mrr is None else {"mrr": mrr}
        stored = answer(api, survey_id, who, score, at.isoformat() + "Z", properties=props)
        row = {"id": stored["id"], "who": who, "at": at, "score": score, "mrr": mrr}
        row["excluded"] = i % 11 == 0
        if row["excluded"]:
            exclude(api, stored)
        rows.append(row)

    expected = reference(rows, unit)
    m = api.get(f"/api/v1/metrics/nps?group_by={unit}&weight=property:mrr").json
    buckets = {b["key"]: b for b in m["buckets"]} | {"all": m["overall"]}
    for key, (n, p, pa, d, w) in expected.items():
        b = buckets[key]
        assert (b["responses"], b["promoters"], b["passives"], b["detractors"]) == (n, p, pa, d)
        assert b["weighted"]["total"] == pytest.approx(w)
    # Unweighted, everyone with a counted answer counts (also those without mrr).
    for row in rows:
        row["mrr"] = 0
    expected = reference(rows, unit)
    m = api.get(f"/api/v1/metrics/nps?group_by={unit}").json
    buckets = {b["key"]: b for b in m["buckets"]} | {"all": m["overall"]}
    for key, (n, p, pa, d, _) in expected.items():
        b = buckets[key]
        assert (b["responses"], b["promoters"], b["passives"], b["detractors"]) == (n, p, pa, d)
    assert m["overall"] == api.get("/api/v1/metrics/nps").json["overall"]
