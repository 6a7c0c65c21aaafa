"""Keys are stored only hashed, and no key or token reaches a log line."""

from __future__ import annotations

import logging

from sqlalchemy import inspect, text

from service.db import db
from service.logs import redact


def all_text_in_database(app) -> str:
    chunks = []
    with app.app_context():
        conn = db().connection()
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                chunks.extend(str(v) for v in row)
    return "\n".join(chunks)


def test_keys_are_stored_only_hashed(app, api, project):
    api.post("/api/v1/people", json={"external_id": "x"})
    stored = all_text_in_database(app)
    for secret in (project.secret_key, project.publishable_key, project.identity_secret):
        assert secret not in stored
        assert secret[6:] not in stored  # not even without its prefix


def test_cli_rotation_invalidates_old_keys(app, client, project):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["projects", "rotate-keys", str(project.id), "--json"])
    assert result.exit_code == 0, result.output
    import json

    new = json.loads(result.output)
    assert new["secret_key"].startswith("fw_sk_") and new["secret_key"] != project.secret_key
    old = client.get("/api/v1/project", headers={"Authorization": f"Bearer {project.secret_key}"})
    assert old.status_code == 401
    ok = client.get("/api/v1/project", headers={"Authorization": f"Bearer {new['secret_key']}"})
    assert ok.status_code == 200
    assert new["secret_key"] not in all_text_in_database(app)


def test_no_key_in_logs(app, api, project, caplog):
    caplog.set_level(logging.DEBUG)
    api.post("/api/v1/people", json={"external_id": "logme"})
    api.get("/api/v1/nothing")
    api.client.get("/api/v1/project", headers={"Authorization": "Bearer fw_sk_guess"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert project.secret_key not in logged
    assert "fw_sk_guess" not in logged


def test_access_log_redaction():
    line = 'GET /r/eyJpIjo3fQ.abc.def?score=9 HTTP/1.1" 200 /u/tok123 ?cursor=abc&limit=5'
    red = redact(line)
    assert "eyJpIjo3fQ" not in red and "tok123" not in red and "cursor=abc" not in red
    assert "/r/[redacted]" in red and "score=9" in red and "limit=5" in red
