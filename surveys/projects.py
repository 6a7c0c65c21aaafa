"""Projects (tenants): creation, key rotation, lookup by key, and their settings."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from surveys.database.prepared import PreparedSelect
from surveys.errors import Invalid, NotFound
from surveys.keys import IssuedKeys, hash_key, issue_keys
from surveys.memo import memo
from surveys.models import Project
from surveys.periods import is_valid_zone

SETTINGS = (
    "name",
    "time_zone",
    "throttle_days",
    "allowed_origins",
    "require_identity_verification",
    "hide_emails_from_viewers",
)


@dataclass(frozen=True)
class NewProject:
    project: Project
    keys: IssuedKeys


def _apply_keys(project: Project, keys: IssuedKeys) -> None:
    project.secret_key_hash = hash_key(keys.secret_key)
    project.publishable_key_hash = hash_key(keys.publishable_key)
    project.identity_salt = keys.identity_salt
    # A short, non-secret prefix lets an operator tell keys apart in listings.
    project.key_prefix = keys.secret_key[:10]


def create_project(session: Session, name: str, time_zone: str = "UTC") -> NewProject:
    if not name or not name.strip():
        raise Invalid("name must not be empty", {"name": ["must not be empty"]})
    if not is_valid_zone(time_zone):
        raise Invalid(f"unknown time zone {time_zone!r}", {"time_zone": ["unknown time zone"]})
    keys = issue_keys()
    # No answers yet, so no period rows to cut: they are current in the project's zone.
    project = Project(
        name=name.strip(), time_zone=time_zone, periods_zone=time_zone, allowed_origins=[]
    )
    _apply_keys(project, keys)
    session.add(project)
    session.flush()
    return NewProject(project, keys)


def rotate_keys(session: Session, project_id: int) -> NewProject:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    keys = issue_keys()
    _apply_keys(project, keys)
    session.flush()
    return NewProject(project, keys)


class KeyKind(StrEnum):
    """What one rotation replaces: each key alone, or everything at once (as the CLI does)."""

    SECRET = "secret"
    PUBLISHABLE = "publishable"
    IDENTITY = "identity"
    ALL = "all"


@dataclass(frozen=True)
class RotatedKeys:
    """The new values of what was rotated (None: kept); shown once, never stored plain."""

    secret_key: str | None
    publishable_key: str | None
    identity_salt: str | None


def rotate_key(session: Session, project: Project, kind: KeyKind) -> RotatedKeys:
    """Replace one of the project's keys, or all; the old one stops working at once. The
    identity salt is what the identity secret is derived from: replacing it changes the secret
    every customer server signs `user_hash` with."""
    fresh = issue_keys()
    rotated = RotatedKeys(
        fresh.secret_key if kind in (KeyKind.SECRET, KeyKind.ALL) else None,
        fresh.publishable_key if kind in (KeyKind.PUBLISHABLE, KeyKind.ALL) else None,
        fresh.identity_salt if kind in (KeyKind.IDENTITY, KeyKind.ALL) else None,
    )
    if rotated.secret_key is not None:
        project.secret_key_hash = hash_key(rotated.secret_key)
        project.key_prefix = rotated.secret_key[:10]
    if rotated.publishable_key is not None:
        project.publishable_key_hash = hash_key(rotated.publishable_key)
    if rotated.identity_salt is not None:
        project.identity_salt = rotated.identity_salt
    session.flush()
    return rotated


def project_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Project)) or 0


@memo(maxsize=1)
def _by_secret_key() -> PreparedSelect:
    """Compiled once: every request of the API authenticates with it."""
    columns = Project.__table__.c
    return PreparedSelect(
        select(*columns).where(
            columns.secret_key_hash == bindparam("hash", type_=columns.secret_key_hash.type)
        )
    )


def secret_key_row(session: Session, key: str) -> Any | None:
    """The project the secret key opens, as a read-only row of all its columns (named as on
    `Project`), or None. Read by a compiled statement and left out of the session: making
    the ORM's object and adding it to the session cost an API request three times the read,
    and an answer needs only the project's id, zone and the events it sends (`attach` makes
    the object for the requests that need one)."""
    rows = _by_secret_key().rows(session, {"hash": hash_key(key)})
    return rows[0] if rows else None


def attach(session: Session, row: Any) -> Project:
    """A row of `secret_key_row` as an object of the session, handed to it as if loaded
    (`make_transient_to_detached`): no second query. The session's own object when it holds
    the project already. Its JSON values are copied (the read shares decoded values between
    rows)."""
    held = session.identity_map.get(session.identity_key(Project, row.id))
    if held is not None:
        return held
    values = row._asdict()
    for name in ("allowed_origins", "events_wanted"):
        values[name] = copy.deepcopy(values[name])
    project = Project(**values)
    make_transient_to_detached(project)
    session.add(project)
    return project


def find_by_publishable_key(session: Session, key: str) -> Project | None:
    return session.scalar(select(Project).where(Project.publishable_key_hash == hash_key(key)))


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def update_project(session: Session, project: Project, changes: dict[str, Any]) -> Project:
    if "time_zone" in changes and not is_valid_zone(changes["time_zone"]):
        raise Invalid("unknown time zone", {"time_zone": ["unknown time zone"]})
    if "allowed_origins" in changes:
        changes = {
            **changes,
            "allowed_origins": [normalise_origin(o) for o in changes["allowed_origins"]],
        }
    for field in SETTINGS:
        if field in changes:
            setattr(project, field, changes[field])
    session.flush()
    return project
