"""Keys are stored only hashed, and no key or token reaches a log line."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from gunicorn.config import Config
from sqlalchemy import inspect, text

from service.db import db
from service.logs import RedactingLogger, redact


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


def access_line(environ: dict[str, str], access_format: str, headers=()) -> str:
    """One access-log line as gunicorn writes it through our logger class."""
    logger = RedactingLogger(Config())
    request = SimpleNamespace(headers=list(headers))
    response = SimpleNamespace(status="200 OK", headers=[], sent=12)
    atoms = logger.atoms_wrapper_class(
        logger.atoms(response, request, environ, timedelta(microseconds=1500))
    )
    # As gunicorn logs it: the format, and the atoms as the record's one argument.
    record = logging.LogRecord("access", logging.INFO, "", 0, access_format, (atoms,), None)
    return record.getMessage()


def test_access_log_redacts_whatever_atoms_the_format_uses():
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
    headers = [
        ("AUTHORIZATION", "Bearer fw_sk_secret"),
        ("X-FLYWHEEL-KEY", "fw_pk_header"),
        ("USER-AGENT", "curl/8"),
    ]
    access_format = (
        '%(h)s "%(r)s" %(s)s %(q)s %(U)s "%(f)s" %({authorization}i)s %({x-flywheel-key}i)s '
        "%({query_string}e)s %({http_authorization}e)s %({raw_uri}e)s %(a)s %(missing)s"
    )
    line = access_line(environ, access_format, headers)
    for secret in ("fw_pk_public", "fw_sk_secret", "fw_pk_header", "eyJsecret", "c2VjcmV0"):
        assert secret not in line, line
    assert line.startswith('10.0.0.1 "POST /w/v1/visits?key=[redacted]&x=1 HTTP/1.1" 200 ')
    assert "key=[redacted]&x=1 /w/v1/visits" in line and "curl/8 -" in line


TOKEN = "eyJpIjo3fQ.aGVsbG8.c2lnbmVk"


@pytest.mark.parametrize(
    "target",
    [
        f"/%72/{TOKEN}?score=9",  # /r/ with its letter percent-encoded
        f"/%52/{TOKEN}?score=9",
        f"/r%2F{TOKEN}?score=9",  # the slash encoded
        f"/r%2f{TOKEN}/more",
        f"/%2572/{TOKEN}",  # encoded twice
        f"//r//{TOKEN}",
        f"/%75/{TOKEN}",  # /u/: the unsubscribe page
        f"/r/%65{TOKEN[1:]}",  # the token's first letter encoded
        "/w/v1/visits?%6Bey=fw_pk_secret&x=1",  # the parameter name encoded
        "/w/v1/visits?k%65Y=fw_pk_secret&x=1",  # mixed case
        "/w/v1/visits?%4b%45%59=fw_pk_secret&x=1",
        "/w/v1/visits?key=fw_pk_secret+more&x=1",  # `+` in the value
        "/w/v1/visits?ke%79+=fw_pk_secret&x=1",  # `+` after the name
        f"/api/v1/people?limit=5&%63ursor={TOKEN}",
        f"/w/v1/visits?x=1&user%5Fhash={TOKEN}",
    ],
)
def test_access_log_redacts_what_percent_encoding_hides(target):
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": target,
        "PATH_INFO": unquote(path),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": f"https://mail.example{target}",
    }
    line = access_line(environ, '%(h)s "%(r)s" %(s)s %(U)s %(q)s "%(f)s" %({path_info}e)s')
    for secret in (TOKEN, TOKEN[2:], "fw_pk_secret", "more&"):
        assert secret not in line, line
    assert "[redacted]" in line and "\n" not in line
    assert "x=1" in line or "x=1" not in target  # the rest of the query is still there


def test_redacted_paths_cannot_forge_log_lines():
    # A redacted path is logged decoded: what decoding brings back is encoded again.
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/%72/{TOKEN}/%0A%22fake%20line",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
    }
    line = access_line(environ, '%(h)s "%(r)s" %(s)s')
    assert line == '10.0.0.1 "GET /r/[redacted]/%0A%22fake%20line HTTP/1.1" 200', line


def test_access_log_leaves_plain_requests_as_they_were():
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/people?limit=5&email=ann%40example.com",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64)",
    }
    line = access_line(environ, '%(h)s "%(r)s" %(s)s "%(a)s"')
    assert line == (
        '10.0.0.1 "GET /api/v1/people?limit=5&email=ann%40example.com HTTP/1.1" 200 '
        '"Mozilla/5.0 (X11; Linux x86_64)"'
    )
