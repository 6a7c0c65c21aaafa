"""Concurrent requests racing on one person: creating them or the same answer gives one row
each; answering, editing and erasing them at once gives no 500 and leaves no orphan row."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from service.db import db
from surveys.people import find_held_person
from tests.analytics.helpers import rebuilt, rows
from tests.live import serve_app


def test_racing_requests_create_one_person_and_honour_one_key(app, api):
    survey = api.post("/api/v1/surveys", json={"name": "Race"}).json["id"]

    def send(i: int):
        return api.post(
            "/api/v1/responses",
            json={"survey_id": survey, "person": {"external_id": "racer"}, "score": 9},
            headers={"Idempotency-Key": "same-key" if i % 2 else f"key-{i}"},
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert {r.status_code for r in answers} == {201}
    same_key_ids = {r.json["id"] for i, r in enumerate(answers) if i % 2}
    assert len(same_key_ids) == 1
    people = api.get("/api/v1/people?external_id=racer").json["items"]
    assert len(people) == 1
    stored = api.get("/api/v1/responses?limit=100").json["items"]
    assert len(stored) == 1 + 8  # one for the shared key, one per distinct key
    assert {r["person_id"] for r in stored} == {people[0]["id"]}


# Orphans: rows pointing at a person or answer that is gone. Foreign keys forbid them; this
# checks that nothing slipped past (or around) them under the race.
ORPHANS = {
    "answers": "SELECT count(*) FROM survey_responses r "
    "WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id)",
    "period answers": "SELECT count(*) FROM period_answers a "
    "WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id) "
    "OR NOT EXISTS (SELECT 1 FROM survey_responses r "
    "WHERE r.id = a.response_id AND r.person_id = a.person_id)",
    "invitations": "SELECT count(*) FROM invitations i "
    "WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = i.person_id)",
    "displays": "SELECT count(*) FROM displays d "
    "WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = d.person_id)",
}
THREADS, CALLS = 6, 60
# What each call may answer when the person (or the answer) was erased under it, besides
# its success; 409 is "changed concurrently, retry".
MAY_ANSWER = {
    "answer": {201, 404, 409},
    "answer_by_id": {201, 404, 409},
    "patch_person": {200, 404, 409},
    "patch_response": {200, 404, 409},
    "erase": {204, 404, 409},
}


class OnePerson:
    """Several clients answering, editing and erasing one person (re-created by external_id
    each time it is erased) through a real threaded server."""

    def __init__(self, base: str, key: str, survey_id: int) -> None:
        self.base, self.key, self.survey_id = base, key, survey_id
        self.lock = threading.Lock()
        self.person_id: int | None = None
        self.response_ids: list[int] = []
        self.seen: list[tuple[str, int, dict]] = []

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, json.loads(raw) if raw else {}

    def answer(self, n: int, person: dict) -> tuple[int, dict]:
        body = {"survey_id": self.survey_id, "person": person, "score": n % 11}
        status, out = self.call("POST", "/api/v1/responses", {**body, "comment": f"call {n}"})
        if status == 201:
            with self.lock:
                self.person_id = out["person_id"]
                self.response_ids.append(out["id"])
        return status, out

    def step(self, n: int) -> None:
        with self.lock:
            pid = self.person_id
            rid = self.response_ids[-1] if self.response_ids else None
        kind = ("answer", "answer_by_id", "patch_person", "patch_response", "erase")[n % 5]
        if kind == "answer" or pid is None or rid is None:
            kind = "answer"
            status, out = self.answer(n, {"external_id": "target", "email": "t@example.com"})
        elif kind == "answer_by_id":
            status, out = self.answer(n, {"id": pid})
        elif kind == "patch_person":
            body = {"name": f"Target {n}", "properties": {"plan": f"p{n % 3}"}}
            status, out = self.call("PATCH", f"/api/v1/people/{pid}", body)
        elif kind == "patch_response":
            body = {"excluded": n % 2 == 0, "comment": f"edited {n}"}
            status, out = self.call("PATCH", f"/api/v1/responses/{rid}", body)
        else:
            status, out = self.call("DELETE", f"/api/v1/people/{pid}")
        with self.lock:
            self.seen.append((kind, status, out))

    def client(self, first: int) -> None:
        for n in range(first, first + CALLS):
            self.step(n)


def test_racing_answers_edits_and_erasure_of_one_person(app, project):
    with serve_app(app) as base:
        race = OnePerson(base, project.secret_key, 0)
        status, survey = race.call("POST", "/api/v1/surveys", {"name": "Race"})
        assert status == 201
        race.survey_id = survey["id"]
        threads = [threading.Thread(target=race.client, args=(i * 7,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(race.seen) == THREADS * CALLS
    unexpected = [
        (kind, status, out) for kind, status, out in race.seen if status not in MAY_ANSWER[kind]
    ]
    assert unexpected == []
    for _kind, status, out in race.seen:
        if status >= 400:
            assert set(out["error"]) == {"code", "message", "details"}, out
    with app.app_context():
        found = {name: db().scalar(text(sql)) for name, sql in ORPHANS.items()}
    assert found == dict.fromkeys(ORPHANS, 0)
    assert rows(app, project.id) == rebuilt(app, project.id)
    erased = [s for kind, s, _ in race.seen if kind == "erase" and s == 204]
    assert erased, "the race never erased the person"


def test_an_answers_hold_on_its_person_lasts_until_its_commit(app, api, database_url):
    """The person an answer matches is read with a lock (FOR KEY SHARE on PostgreSQL) in the
    request's own transaction, which the read begins: on the thread's kept connection, in
    autocommit, the lock would end with the statement and an erasure could delete the person
    before the answer points at them."""
    api.post("/api/v1/people", json={"external_id": "held"})
    with app.app_context():
        session = db()
        assert not session.in_transaction()
        held = find_held_person(session, api.keys.id, {"external_id": "held"})
        assert held is not None and session.in_transaction()
        if database_url.startswith("postgresql"):
            other = create_engine(database_url)
            try:
                with other.connect() as conn:
                    conn.exec_driver_sql("SET lock_timeout = '200ms'")
                    with pytest.raises(OperationalError, match="lock timeout"):
                        conn.execute(
                            text("SELECT id FROM people WHERE id = :id FOR UPDATE"),
                            {"id": held.id},
                        )
            finally:
                other.dispose()
        session.rollback()
