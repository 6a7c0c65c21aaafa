"""Fuzz every documented operation from the OpenAPI description (schemathesis) — the JSON API
with a valid secret key, the widget endpoints with the publishable key: no 5xx, and every
answer matches its documented status, type and schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from service import migrate
from service.db import db, make_engine
from service.factory import create_app
from surveys.catalog import create_survey
from surveys.people import upsert_person
from surveys.projects import create_project

# The issue asks for at least 1,000 generated requests over the whole API; operations with few
# inputs exhaust early, so the budget per operation is generous and the total is checked.
MIN_REQUESTS = 1000
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _fuzz_app():
    """One app on a migrated SQLite file with a project, a survey and a person, so generated
    ids sometimes hit real rows."""
    var = Path(tempfile.mkdtemp(prefix="flywheel-fuzz-"))
    url = f"sqlite:///{var / 'fuzz.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    limits = {f"RATE_LIMIT_{k}": "1000000/minute" for k in ("WIDGET_IP", "WIDGET_KEY", "API")}
    app = create_app(
        {
            "DATABASE_URL": url,
            "VAR_DIR": str(var),
            "SECRET_KEY": "fuzz-secret-key-not-for-production",
            **limits,
        }
    )
    with app.app_context():
        new = create_project(db(), "Fuzz")
        create_survey(db(), new.project.id, {"name": "Fuzzed"})
        upsert_person(db(), new.project.id, {"external_id": "fuzz-person"}, trusted=True)
        db().commit()
    return app, {"Authorization": f"Bearer {new.keys.secret_key}"}, new.keys.publishable_key


APP, AUTH, PUBLISHABLE_KEY = _fuzz_app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)
OPERATIONS = sum(1 for _ in schema.get_all_operations())
EXAMPLES = max(30, -(-MIN_REQUESTS * 3 // (2 * OPERATIONS)))


@pytest.fixture(scope="module")
def sent() -> list[int]:
    return [0]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operation_survives_fuzzing(case, sent):
    sent[0] += 1
    if case.path.startswith("/w/v1/"):
        # The widget's endpoints take the publishable key, as widget.js sends it.
        case.query = {**(case.query or {}), "key": PUBLISHABLE_KEY}
        case.call_and_validate(checks=CHECKS)
        return
    case.call_and_validate(headers=AUTH, checks=CHECKS)


def test_fuzzing_sent_enough_requests(sent):
    assert OPERATIONS >= 10
    assert sent[0] >= MIN_REQUESTS, f"only {sent[0]} generated requests"
