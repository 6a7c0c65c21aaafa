"""People: upsert by external_id or email, batch upsert, listing and changes (erasure is
`surveys.erasure`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.clock import to_naive_utc
from surveys.database.inserts import insert_or_ignore
from surveys.database.lists import one_of
from surveys.database.paging import Page, keyset_page
from surveys.database.prepared import PreparedSelect, PreparedWrite
from surveys.errors import Conflict, Invalid, NotFound
from surveys.memo import memo
from surveys.models import Person
from surveys.person_locks import deleted_meanwhile

PLAIN_FIELDS = ("name", "locale", "time_zone")
_CHUNK = 2000
_ERASED_MEANWHILE = "a person was erased while this request changed them; retry"


def normalise_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


class Written(Protocol):
    """A person as a writer sees them: a `Person`, or a row of one."""

    trusted: bool


def may_change(person: Written, trusted: bool) -> bool:
    """Whether a writer may change the person's fields: a trusted one always (the secret-key
    API, a verified widget visit); an untrusted one (a widget visit without a valid user_hash)
    only on a person no trusted writer has written."""
    return trusted or not person.trusted


def _apply(person: Person | SimpleNamespace, data: dict[str, Any], trusted: bool) -> None:
    if not may_change(person, trusted):
        return
    if trusted:
        person.trusted = True
    for name in PLAIN_FIELDS:
        if name in data:
            setattr(person, name, data[name])
    if "email" in data:
        person.email = normalise_email(data["email"])
    if data.get("external_id") is not None:
        person.external_id = data["external_id"]
    if "created_at" in data:
        person.created_at = to_naive_utc(data["created_at"]) if data["created_at"] else None
    if data.get("properties"):
        # Merge, not replace: integrations often send only what changed.
        person.properties = {**(person.properties or {}), **data["properties"]}


def get_person(session: Session, project_id: int, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.project_id != project_id:
        raise NotFound(f"person {person_id} not found")
    return person


def _match_on(data: dict[str, Any]) -> tuple[str, Any] | None:
    """Which key matches the person: id, else external_id, else email (normalised), the
    order integrations rely on; None when `data` names none."""
    if data.get("id") is not None:
        return "id", data["id"]
    if data.get("external_id"):
        return "external_id", data["external_id"]
    if email := normalise_email(data.get("email")):
        return "email", email
    return None


def find_person(
    session: Session, project_id: int, data: dict[str, Any], *, share: bool = False
) -> Person | None:
    """Match by id, else external_id, else email (`_match_on`).

    `share`: hold the person found as `person_locks.share_person` does, in the same statement
    (for a writer that points at them next)."""
    match = _match_on(data)
    if match is None:
        return None
    key, value = match
    if key == "id":
        if not share:
            return get_person(session, project_id, value)
        stmt = select(Person).where(Person.id == value)
        person = session.scalar(stmt.with_for_update(read=True, key_share=True))
        if person is None or person.project_id != project_id:
            raise NotFound(f"person {value} not found")
        return person
    if key == "external_id":
        stmt = select(Person).where(Person.project_id == project_id, Person.external_id == value)
    else:
        stmt = (
            select(Person)
            .where(Person.project_id == project_id, Person.email == value)
            .order_by(Person.id)
            .limit(1)
        )
    if share:
        stmt = stmt.with_for_update(read=True, key_share=True)
    return session.scalar(stmt)


def _fresh(project_id: int, data: dict[str, Any], trusted: bool) -> Person:
    fresh = Person(project_id=project_id, properties={}, trusted=False)
    _apply(fresh, data, trusted)
    return fresh


# A new row's columns before the person rules: unset (None), as on a transient `Person`, but
# for `trusted`, which `_apply` sets only for a trusted writer.
_NEW_ROW = {
    c.key: None for c in Person.__table__.columns if c.key not in ("id", "project_id", "properties")
} | {"trusted": False}


class HeldPerson(NamedTuple):
    """What an answer needs of its person: the row's id, locale and properties."""

    id: int
    project_id: int
    locale: str | None
    properties: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> HeldPerson:
        """From a row `insert_person_row` stored."""
        return cls(row["id"], row["project_id"], row["locale"], row["properties"])


@memo(maxsize=8)
def _held_by(key: str, beside: tuple[ColumnElement[Any], ...]) -> PreparedSelect:
    """Built once per match key (and columns asked beside the person's): the read runs on
    every answer through the API."""
    p = Person
    stmt = select(p.id, p.project_id, p.locale, p.properties, *beside)
    if key == "id":
        stmt = stmt.where(p.id == bindparam("value", type_=p.id.type))
    else:
        column = p.external_id if key == "external_id" else p.email
        stmt = stmt.where(
            p.project_id == bindparam("project_id", type_=p.project_id.type),
            column == bindparam("value", type_=column.type),
        )
        if key == "email":
            stmt = stmt.order_by(p.id).limit(1)
    return PreparedSelect(stmt.with_for_update(read=True, key_share=True), locking=True)


def find_held_person(
    session: Session,
    project_id: int,
    data: dict[str, Any],
    beside: tuple[ColumnElement[Any], ...] = (),
    params: dict[str, Any] | None = None,
) -> Any:
    """`find_person(..., share=True)` for a writer that needs only the person's id, locale and
    properties (an answer): the same match and lock, a compiled read instead of an object;
    a row with those fields (`HeldPerson`'s), then the labelled `beside` columns (scalar
    subqueries correlated to the person, with their `params`), or None.
    The properties are shared with other reads of the same text: copy before changing."""
    match = _match_on(data)
    if match is None:
        return None
    key, value = match
    rows = _held_by(key, beside).rows(
        session, {**(params or {}), "project_id": project_id, "value": value}
    )
    person = rows[0] if rows else None
    if key == "id" and (person is None or person.project_id != project_id):
        raise NotFound(f"person {value} not found")
    return person


@memo(maxsize=4)
def _held_insert(dialect: str) -> PreparedWrite:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Person).on_conflict_do_nothing().returning(Person.id)
    return PreparedWrite(stmt, [c.key for c in Person.__table__.columns if c.key != "id"])


def insert_person_row(
    session: Session,
    project_id: int,
    data: dict[str, Any],
    *,
    trusted: bool,
    now: datetime,
    anonymous: bool = False,
    at_once: bool = False,
) -> dict[str, Any] | None:
    """Insert a new person on a hot path (an answer, a widget visitor's first page view): one
    compiled INSERT ... RETURNING id, no ORM object; every column of the stored row (its id
    included), or None when another request stored the same external_id first. Every column
    is given (unset ones null, `now` for its times). `at_once`: committed by itself when the
    session has no transaction yet (`PreparedWrite.returning_at_once`)."""
    # The person rules applied to a plain namespace, as `_fresh` applies them to a transient
    # `Person`: the same values without the ORM's instrumented object (a tenth of its cost).
    fresh = SimpleNamespace(**_NEW_ROW, project_id=project_id, properties={})
    _apply(fresh, data, trusted)
    values = vars(fresh)
    values.update(added_at=now, updated_at=now, anonymous=anonymous, trusted=bool(fresh.trusted))
    insert = _held_insert(session.get_bind().dialect.name)
    row = (insert.returning_at_once if at_once else insert.returning)(session, values)
    if row is None:
        return None
    return {"id": row[0], **values}


def create_person(
    session: Session, project_id: int, data: dict[str, Any], *, trusted: bool
) -> Person | None:
    """Insert a new person (one statement, the row returned by it); None when another
    request stored the same external_id first."""
    return insert_or_ignore(session, _fresh(project_id, data, trusted))


def upsert_person(
    session: Session, project_id: int, data: dict[str, Any], *, trusted: bool
) -> tuple[Person, bool]:
    """Create or update one person; returns (person, created). An untrusted writer changes
    nothing on a person a trusted one wrote (`may_change`)."""
    if not data.get("external_id") and not data.get("email") and data.get("id") is None:
        raise Invalid(
            "a person needs an external_id or an email",
            {"external_id": ["external_id or email is required"]},
        )
    for _ in range(2):
        person = find_person(session, project_id, data)
        if person is not None:
            _apply(person, data, trusted)
            with deleted_meanwhile(_ERASED_MEANWHILE, Conflict):
                session.flush()
            return person, False
        created = create_person(session, project_id, data, trusted=trusted)
        if created is not None:
            return created, True
        # Another request created the same external_id meanwhile: update that one.
    raise Conflict(
        "the person changed concurrently; retry", {"external_id": data.get("external_id")}
    )


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def prefetch(
    session: Session, project_id: int, rows: list[dict[str, Any]], columns: tuple[Any, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's people the rows name, by external_id and by normalised email (the
    oldest person holding an email), in a few queries: `Person` objects, or rows of just
    `columns` (which must hold external_id and email) for a reader that changes nobody."""
    ext_ids = sorted({r["external_id"] for r in rows if r.get("external_id")})
    emails = sorted({normalise_email(r["email"]) for r in rows if r.get("email")})
    by_ext: dict[str, Person] = {}
    by_email: dict[str, Person] = {}
    dialect = session.get_bind().dialect.name
    for i in range(0, max(len(ext_ids), len(emails)), _CHUNK):
        conds = []
        if ext_ids[i : i + _CHUNK]:
            conds.append(one_of(Person.external_id, ext_ids[i : i + _CHUNK], dialect))
        if emails[i : i + _CHUNK]:
            conds.append(one_of(Person.email, emails[i : i + _CHUNK], dialect))
        what = select(*columns) if columns else select(Person)
        stmt = what.where(Person.project_id == project_id, or_(*conds)).order_by(Person.id)
        for person in session.execute(stmt) if columns else session.scalars(stmt):
            if person.external_id:
                by_ext[person.external_id] = person
            if person.email:
                by_email.setdefault(person.email, person)
    return by_ext, by_email


def upsert_people(
    session: Session, project_id: int, rows: Iterable[tuple[int, dict[str, Any]]]
) -> BatchResult:
    """Upsert many valid rows (index, data) with a few queries instead of one per row; the
    server's own writes, so trusted."""
    indexed = list(rows)
    by_ext, by_email = prefetch(session, project_id, [r for _, r in indexed])
    result = BatchResult()
    for index, data in indexed:
        if not data.get("external_id") and not data.get("email"):
            result.errors.append(
                {"index": index, "errors": {"external_id": ["external_id or email is required"]}}
            )
            continue
        person = None
        if data.get("external_id"):
            person = by_ext.get(data["external_id"])
        elif data.get("email"):
            person = by_email.get(normalise_email(data["email"]))
        if person is None:
            person = Person(project_id=project_id, properties={})
            session.add(person)
            result.created += 1
        else:
            result.updated += 1
        _apply(person, data, trusted=True)
        if person.external_id:
            by_ext[person.external_id] = person
        if person.email:
            by_email.setdefault(person.email, person)
    with deleted_meanwhile(_ERASED_MEANWHILE, Conflict):
        session.flush()
    return result


def list_people(
    session: Session,
    project_id: int,
    *,
    limit: int,
    after: int | None,
    email: str | None = None,
    external_id: str | None = None,
    updated_since: datetime | None = None,
) -> Page[Person]:
    stmt = select(Person).where(Person.project_id == project_id)
    if email:
        stmt = stmt.where(Person.email == normalise_email(email))
    if external_id:
        stmt = stmt.where(Person.external_id == external_id)
    if updated_since:
        stmt = stmt.where(Person.updated_at >= to_naive_utc(updated_since))
    return keyset_page(session, stmt, Person.id, limit=limit, after=after)


def update_person(
    session: Session, project_id: int, person_id: int, data: dict[str, Any]
) -> Person:
    person = get_person(session, project_id, person_id)
    new_external = data.get("external_id")
    if new_external and new_external != person.external_id:
        taken = session.scalar(
            select(Person.id).where(
                Person.project_id == project_id, Person.external_id == new_external
            )
        )
        if taken is not None:
            raise Invalid(
                "another person already has this external_id",
                {"external_id": ["already used by another person"]},
            )
    _apply(person, data, trusted=True)
    with deleted_meanwhile(f"person {person_id} not found"):
        session.flush()
    return person
