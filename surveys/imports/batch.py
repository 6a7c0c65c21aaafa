"""Recording many answers at once: the rules of one answer, the writes of a set.

Every row meets `answers.check_answer`, like an answer from any door; then the batch costs a
few statements whatever its size: known idempotency keys and people are read in chunks, new
people and answers go in with multi-row INSERTs, and the period answers of the new rows are
kept with one INSERT ... SELECT per unit (`period_answers.count_range`), so movement reads
right as soon as the batch commits.

Idempotency is per row: a row whose key is stored already (or came earlier in the same
batch) returns that answer and creates nothing, so a retried batch creates nothing new. Rows
without a key are always new answers, as with `POST /responses`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import people, period_answers
from surveys.answers import Answer, check_answer
from surveys.clock import to_naive_utc
from surveys.database.bulk_rows import insert_rows
from surveys.database.lists import one_of
from surveys.errors import Conflict, DomainError, NotFound, PersonErased
from surveys.models import Person, Project, SurveyResponse

BATCH_MAX = 10_000
# What an answer needs of its person: plain rows, not objects the session would track.
_PERSON_COLUMNS = (Person.id, Person.external_id, Person.email, Person.locale, Person.properties)
# Rows per IN (...) list: well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 2_000


@dataclass(frozen=True)
class BatchRow:
    """One answer of a batch: who gave it (id, external_id or email; name and properties
    for a person the batch creates) and the answer itself."""

    index: int
    who: dict[str, Any]
    answer: Answer
    excluded: bool = False


@dataclass
class RowResult:
    index: int
    response_id: int | None = None
    created: bool = False
    error: DomainError | None = None


@dataclass
class _Pending:
    row: BatchRow
    person: Any = None  # a row of _PERSON_COLUMNS
    values: dict[str, Any] = field(default_factory=dict)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def record_batch(
    session: Session, project_id: int, rows: Sequence[BatchRow], *, now: datetime
) -> list[RowResult]:
    """Store the valid rows of a batch; one result per row, in the rows' order."""
    results = {row.index: RowResult(row.index) for row in rows}
    checked: list[BatchRow] = []
    # Each survey read once for the batch, and held while it runs.
    surveys: dict[int, Any] = {}
    for row in rows:
        try:
            check_answer(session, project_id, row.answer, surveys)
        except DomainError as exc:
            results[row.index].error = exc
            continue
        checked.append(row)

    known = _stored_keys(session, project_id, [r.answer.idempotency_key for r in checked])
    fresh: list[_Pending] = []
    repeats: list[BatchRow] = []
    keys_in_batch: set[str] = set()
    for row in checked:
        key = row.answer.idempotency_key
        if key and key in known:
            results[row.index].response_id = known[key]
        elif key and key in keys_in_batch:
            repeats.append(row)  # the first row with this key answers for it
        else:
            if key:
                keys_in_batch.add(key)
            fresh.append(_Pending(row))

    _find_people(session, project_id, fresh, results, now)
    fresh = [p for p in fresh if results[p.row.index].error is None]
    _hold_people(session, fresh, results)
    fresh = [p for p in fresh if results[p.row.index].error is None]
    ids = _insert_answers(session, project_id, fresh, now)
    for pending in fresh:
        result = results[pending.row.index]
        result.response_id = ids.get(pending.row.index)
        result.created = result.response_id is not None
    # Rows that lost a race for their key, and repeats of a key within the batch, answer
    # with the stored row.
    late = [p.row for p in fresh if results[p.row.index].response_id is None] + repeats
    if late:
        known = _stored_keys(session, project_id, [r.answer.idempotency_key for r in late])
        for row in late:
            results[row.index].response_id = known.get(row.answer.idempotency_key or "")
            if results[row.index].response_id is None:
                # The first row with this key failed, or its winner was erased meanwhile.
                results[row.index].error = Conflict("the answer conflicts with another; retry")
    if ids:
        project = session.get(Project, project_id)
        zone = project.time_zone if project is not None else "UTC"
        period_answers.count_range(session, zone, project_id, min(ids.values()), max(ids.values()))
    return [results[row.index] for row in rows]


def _stored_keys(session: Session, project_id: int, keys: list[str | None]) -> dict[str, int]:
    wanted = sorted({k for k in keys if k})
    r = SurveyResponse
    found: dict[str, int] = {}
    dialect = session.get_bind().dialect.name
    for chunk in _chunks(wanted):
        stmt = select(r.idempotency_key, r.id).where(
            r.project_id == project_id, one_of(r.idempotency_key, chunk, dialect)
        )
        found.update({key: rid for key, rid in session.execute(stmt)})
    return found


def _find_people(
    session: Session,
    project_id: int,
    pending: list[_Pending],
    results: dict[int, RowResult],
    now: datetime,
) -> None:
    """Each row's person, matched like `answers.record_answer_for` (id, else external_id,
    else email) and created when new, with a few statements for the whole batch."""
    # Only what matches a person is looked up: the email of a row with an external_id is not.
    whos = [_lookup(p.row.who) for p in pending if p.row.who.get("id") is None]
    by_ext, by_email = people.prefetch(session, project_id, whos, _PERSON_COLUMNS)
    by_id = _people_by_id(
        session, project_id, [p.row.who["id"] for p in pending if p.row.who.get("id")]
    )
    new_rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p in pending:
        who = p.row.who
        if who.get("id") is not None:
            p.person = by_id.get(who["id"])
            if p.person is None:
                results[p.row.index].error = NotFound(f"person {who['id']} not found")
            continue
        p.person = _match(who, by_ext, by_email)
        if p.person is None:
            new_rows.setdefault(_identity(who), _new_person(project_id, who, now))
    if not new_rows:
        return
    made = _insert_people(session, new_rows)
    lost = [new_rows[k] for k in new_rows if k not in made]
    if lost:  # created by a concurrent writer meanwhile: theirs is the person
        by_ext, by_email = people.prefetch(session, project_id, lost, _PERSON_COLUMNS)
    for p in pending:
        if p.person is None and results[p.row.index].error is None:
            p.person = made.get(_identity(p.row.who)) or _match(p.row.who, by_ext, by_email)
            if p.person is None:  # erased between its insert and this read
                results[p.row.index].error = PersonErased("the person was erased meanwhile")


def _lookup(who: dict[str, Any]) -> dict[str, Any]:
    if who.get("external_id"):
        return {"external_id": who["external_id"]}
    return {"email": who.get("email")}


def _identity(who: dict[str, Any]) -> tuple[str, str]:
    if who.get("external_id"):
        return ("external_id", who["external_id"])
    return ("email", people.normalise_email(who.get("email")) or "")


def _match(who: dict[str, Any], by_ext: dict[str, Any], by_email: dict[str, Any]) -> Any:
    if who.get("external_id"):
        return by_ext.get(who["external_id"])
    email = people.normalise_email(who.get("email"))
    return by_email.get(email) if email else None


@dataclass(frozen=True)
class _NewPerson:
    """A person the batch created, as much of them as an answer needs."""

    id: int
    locale: str | None
    properties: dict[str, Any]


def _new_person(project_id: int, who: dict[str, Any], now: datetime) -> dict[str, Any]:
    # As `people.upsert_person` makes a person an answer names: the server's own write.
    return {
        "project_id": project_id,
        "external_id": who.get("external_id") or None,
        "email": people.normalise_email(who.get("email")),
        "name": who.get("name"),
        "properties": dict(who.get("properties") or {}),
        "trusted": True,
        "anonymous": False,
        "added_at": now,
        "updated_at": now,
    }


def _insert_people(
    session: Session, rows: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], _NewPerson]:
    """Insert the new people; identity -> the person made (absent: a concurrent writer
    created the same external_id first)."""
    keyed = [r for r in rows.values() if r["external_id"]]
    unkeyed = [(k, r) for k, r in rows.items() if not r["external_id"]]
    # A concurrent writer may create the same external_id meanwhile: theirs is kept.
    by_ext, ids = insert_rows(
        session, Person.__table__, keyed, [r for _, r in unkeyed], "external_id"
    )
    made = {
        ("external_id", ext): _NewPerson(pid, None, rows[("external_id", ext)]["properties"])
        for ext, pid in by_ext.items()
    }
    for (key, row), pid in zip(unkeyed, ids, strict=True):
        made[key] = _NewPerson(pid, None, row["properties"])
    return made


def _people_by_id(session: Session, project_id: int, ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    dialect = session.get_bind().dialect.name
    for chunk in _chunks(sorted(set(ids))):
        stmt = select(*_PERSON_COLUMNS).where(
            Person.project_id == project_id, one_of(Person.id, chunk, dialect)
        )
        found.update({p.id: p for p in session.execute(stmt)})
    return found


def _hold_people(session: Session, pending: list[_Pending], results: dict[int, RowResult]) -> None:
    """`person_locks.share_person` for the whole batch: an erasure waits for it, and a
    person erased before it fails only their own rows."""
    ids = sorted({p.person.id for p in pending if p.person is not None})
    held: set[int] = set()
    dialect = session.get_bind().dialect.name
    for chunk in _chunks(ids):
        stmt = (
            select(Person.id)
            .where(one_of(Person.id, chunk, dialect))
            .order_by(Person.id)
            .with_for_update(read=True, key_share=True)
        )
        held.update(session.scalars(stmt))
    for p in pending:
        if p.person is None or p.person.id not in held:
            results[p.row.index].error = PersonErased("the person was erased meanwhile")


def _insert_answers(
    session: Session, project_id: int, pending: list[_Pending], now: datetime
) -> dict[int, int]:
    """Insert the rows' answers; row index -> new id (absent: a concurrent writer stored the
    same idempotency key first)."""
    keyed: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    index_of_key: dict[str, int] = {}
    plain_indexes: list[int] = []
    for p in pending:
        a, person = p.row.answer, p.person
        assert person is not None
        values = {
            "project_id": project_id,
            "survey_id": a.survey_id,
            "person_id": person.id,
            "score": a.score,
            "comment": a.comment,
            "channel": a.channel,
            "locale": a.locale or person.locale,
            "category": a.category,
            "page_url": a.page_url,
            "excluded": p.row.excluded,
            "properties": dict(a.properties if a.properties is not None else person.properties),
            "idempotency_key": a.idempotency_key,
            "created_at": to_naive_utc(a.created_at) if a.created_at else now,
            "updated_at": now,
        }
        if a.idempotency_key:
            keyed.append(values)
            index_of_key[a.idempotency_key] = p.row.index
        else:
            plain.append(values)
            plain_indexes.append(p.row.index)
    by_key, plain_ids = insert_rows(
        session, SurveyResponse.__table__, keyed, plain, "idempotency_key"
    )
    ids = {index_of_key[key]: rid for key, rid in by_key.items()}
    ids.update(zip(plain_indexes, plain_ids, strict=True))
    return ids
