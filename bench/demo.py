"""A demo project to look at the team app with: `python -m bench.demo var/demo.db`.

Answers go in through the JSON API (the real door, so every pre-aggregate is kept), over four
quarters, with comments that fall into a handful of friction points and people who move
between segments; then the worker's passes run once (period answers, a theme run). It prints
how to serve the database and the owner's email and password. The screenshots under
`docs/screenshots/` are taken from it (`../shared/tools/look.py` or any browser).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from service import migrate
from service.db import db, make_engine
from service.factory import create_app
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member, set_password
from surveys.catalog import create_survey
from surveys.projects import create_project

OWNER, PASSWORD = "owner@demo.example", "demo password 2026"
SECRET = "demo-secret-key-not-for-production"
QUARTERS = ["2026-01-", "2026-04-", "2026-07-", "2026-10-"]
COMPLAINTS = {
    "support": [
        "Support took three days to answer my ticket",
        "Nobody from support answered my emails",
        "Support tickets wait far too long for an answer",
    ],
    "price": [
        "Pricing is too high for a small team",
        "The new price is too expensive for what we get",
        "Too expensive compared with other tools",
    ],
    "export": [
        "Exports to Excel break our accents",
        "The CSV export times out on big projects",
        "Export fails every time with many rows",
    ],
    "mobile": [
        "The mobile app crashes when I upload photos",
        "Mobile app is slow and crashes often",
    ],
}
PRAISE = ["Love how fast the dashboard is", "Great product, the team loves it", "Works well"]
PLANS = ["free", "starter", "pro", "enterprise"]


def seed(path: Path, people: int, seed_value: int = 7) -> dict[str, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "VAR_DIR": str(path.parent)})
    with app.app_context():
        new = create_project(db(), "Acme Analytics")
        survey = create_survey(db(), new.project.id, {"name": "Quarterly NPS"})
        set_password(db(), add_member(db(), new.project.id, OWNER, Role.OWNER).user, PASSWORD)
        db().commit()
        project_id, survey_id, key = new.project.id, survey.id, new.keys.secret_key
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    rng = random.Random(seed_value)
    themes = list(COMPLAINTS)
    for n in range(people):
        plan = PLANS[n % len(PLANS)]
        mood = rng.random()
        for q, quarter in enumerate(QUARTERS):
            if rng.random() < 0.15:
                continue  # not everybody answers every quarter
            drift = (q - 1.5) * (0.6 if n % 5 == 0 else -0.2)
            score = max(0, min(10, round(rng.gauss(7.5 + 2 * mood - drift * 2, 2))))
            comment = None
            if score <= 6 and rng.random() < 0.8:
                comment = rng.choice(COMPLAINTS[themes[(n + q) % len(themes)]])
            elif score >= 9 and rng.random() < 0.3:
                comment = rng.choice(PRAISE)
            body = {
                "survey_id": survey_id,
                "person": {"external_id": f"c{n}", "email": f"customer{n}@example.com"},
                "properties": {"plan": plan, "mrr": [0, 49, 199, 999][n % 4]},
                "score": score,
                "comment": comment,
                "channel": "email" if n % 3 else "widget",
                "created_at": f"{quarter}{1 + rng.randrange(27):02d}T10:00:00Z",
            }
            r = client.post("/api/v1/responses", json=body, headers=auth)
            assert r.status_code == 201, r.json
    r = client.post("/api/v1/themes/runs", json={}, headers=auth)
    assert r.status_code == 202, r.json
    # Follow-up on, so the worker opens one for every detractor from now on; a tag and an
    # alert rule, so the triage controls and the alerts page have something to show.
    settings = {"enabled": True, "sla_hours": {"detractor": 48}}
    assert (
        client.patch("/api/v1/follow-up-settings", json=settings, headers=auth).status_code == 200
    )
    for name in ("billing", "call back", "churn risk"):
        assert client.post("/api/v1/tags", json={"name": name}, headers=auth).status_code == 201
    rule = {"name": "Enterprise detractors", "kind": "detractor", "destination": "email"}
    rule |= {"emails": ["cx-lead@demo.example"], "property_key": "plan"}
    rule |= {"property_value": "enterprise"}
    assert client.post("/api/v1/alert-rules", json=rule, headers=auth).status_code == 201
    for n in range(12):
        body = {
            "survey_id": survey_id,
            "person": {"external_id": f"late{n}", "email": f"late{n}@example.com"},
            "score": n % 7,
            "comment": rng.choice(COMPLAINTS["support"]),
            "properties": {"plan": "enterprise", "mrr": 999},
            "created_at": "2026-11-20T10:00:00Z",
        }
        assert client.post("/api/v1/responses", json=body, headers=auth).status_code == 201
    from service.worker.loop import run_once

    done = run_once(app)
    return {"project_id": project_id, "survey_id": survey_id, "worker": done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("var/demo.db"))
    parser.add_argument("--people", type=int, default=400)
    args = parser.parse_args()
    made = seed(args.out, args.people)
    print(f"demo project {made['project_id']} in {args.out}; worker: {made['worker']}")
    print(f"serve: DATABASE_URL=sqlite:///{args.out} SECRET_KEY={SECRET} make run")
    print(f"sign in at /app as {OWNER} with the password {PASSWORD!r}")


if __name__ == "__main__":
    main()
