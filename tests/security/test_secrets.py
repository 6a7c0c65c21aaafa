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


def test_access_log_redacts_whatever_atoms_the_format_uses():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from service.logs import RedactingLogger

    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/w/v1/visits?key=fw_pk_public&x=1",
        "PATH_INFO": "/w/v1/visits",
        "QUERY_STRING": "key=fw_pk_public&x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": "https://app.example/r/eyJsecret.sig?cursor=c2VjcmV0",
        "HTTP_AUTHORIZATION": "Bearer fw_sk_secret",
        "HTTP_USER_AGENT": "curl/8",
    }
    request = SimpleNamespace(
        headers=[
            ("AUTHORIZATION", "Bearer fw_sk_secret"),
            ("X-FLYWHEEL-KEY", "fw_pk_header"),
            ("USER-AGENT", "curl/8"),
        ]
    )
    response = SimpleNamespace(status="200 OK", headers=[], sent=12)
    atoms = logger.atoms_wrapper_class(
        logger.atoms(response, request, environ, timedelta(microseconds=1500))
    )
    access_format = (
        '%(h)s "%(r)s" %(s)s %(q)s %(U)s "%(f)s" %({authorization}i)s %({x-flywheel-key}i)s '
        "%({query_string}e)s %({http_authorization}e)s %({raw_uri}e)s %(a)s %(missing)s"
    )
    # As gunicorn logs it: the format, and the atoms as the record's one argument.
    record = logging.LogRecord("access", logging.INFO, "", 0, access_format, (atoms,), None)
    line = record.getMessage()
    for secret in ("fw_pk_public", "fw_sk_secret", "fw_pk_header", "eyJsecret", "c2VjcmV0"):
        assert secret not in line, line
    assert line.startswith('10.0.0.1 "POST /w/v1/visits?key=[redacted]&x=1 HTTP/1.1" 200 ')
    assert "key=[redacted]&x=1 /w/v1/visits" in line and "curl/8 -" in line
