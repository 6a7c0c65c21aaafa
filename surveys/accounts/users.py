"""Users and memberships: who may sign in, to which projects, with which role; passwords,
sessions and two-factor state of each user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.accounts import links, totp
from surveys.accounts.passwords import (
    check_password_rules,
    hash_password,
    needs_rehash,
    verify_password,
)
from surveys.accounts.roles import Role
from surveys.errors import Conflict, Invalid, NotFound
from surveys.models import Membership, Project, User
from surveys.sealed import Sealer, SealError, is_sealed

# Deliberately loose: the address is proven by the link mailed to it, not by its shape.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_EMAIL = 320


def normalise_email(text: str) -> str:
    email = text.strip().lower()
    if not _EMAIL.match(email) or len(email) > MAX_EMAIL:
        raise Invalid("not an email address", {"email": ["not an email address"]})
    return email


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def load_user(session: Session, user_id: int, session_version: int) -> User | None:
    """The user a session cookie names, unless they were signed out everywhere since."""
    user = session.get(User, user_id)
    if user is None or user.session_version != session_version:
        return None
    return user


@dataclass(frozen=True)
class ProjectRole:
    project: Project
    role: Role


def projects_of(session: Session, user_id: int) -> list[ProjectRole]:
    """The user's projects with their role in each, by name."""
    rows = session.execute(
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user_id)
        .order_by(Project.name, Project.id)
    )
    return [ProjectRole(project, Role(role)) for project, role in rows]


@dataclass(frozen=True)
class Member:
    user: User
    role: Role

    @property
    def pending(self) -> bool:
        """Invited, and has not set a password yet."""
        return self.user.password_hash is None


def members(session: Session, project_id: int) -> list[Member]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
        .order_by(User.email)
    )
    return [Member(user, Role(role)) for user, role in rows]


@dataclass(frozen=True)
class Added:
    user: User
    membership: Membership
    new_user: bool


def add_member(session: Session, project_id: int, email: str, role: Role) -> Added:
    """Give the email a role in the project, creating its user when there is none."""
    email = normalise_email(email)
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    user = find_user(session, email)
    new_user = user is None
    if user is None:
        user = User(email=email, session_version=1)
        session.add(user)
        session.flush()
    elif _membership(session, project_id, user.id) is not None:
        raise Conflict(
            f"{email} is a member already", {"email": ["already a member of this project"]}
        )
    membership = Membership(user_id=user.id, project_id=project_id, role=role.value)
    session.add(membership)
    session.flush()
    return Added(user, membership, new_user)


def _membership(session: Session, project_id: int, user_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )


def _member(session: Session, project_id: int, user_id: int) -> Membership:
    found = _membership(session, project_id, user_id)
    if found is None:
        raise NotFound(f"user {user_id} is not a member of this project")
    return found


def _keep_an_owner(session: Session, membership: Membership) -> None:
    """Refuse to take away the project's last owner: someone must manage keys and users."""
    if membership.role != Role.OWNER:
        return
    # Locked on PostgreSQL: two owners demoting each other at once cannot both pass.
    owners = session.scalars(
        select(Membership.id)
        .where(Membership.project_id == membership.project_id, Membership.role == Role.OWNER)
        .with_for_update()
    ).all()
    if len(owners) <= 1:
        raise Conflict(
            "a project needs at least one owner: make someone else owner first",
            {"role": ["the last owner"]},
        )


def change_role(session: Session, project_id: int, user_id: int, role: Role) -> Membership:
    membership = _member(session, project_id, user_id)
    if role != Role.OWNER:
        _keep_an_owner(session, membership)
    membership.role = role.value
    session.flush()
    return membership


def remove_member(session: Session, project_id: int, user_id: int) -> None:
    """Take the user out of the project; the user stays, with their other projects."""
    membership = _member(session, project_id, user_id)
    _keep_an_owner(session, membership)
    session.delete(membership)
    session.flush()


def owner_count(session: Session, project_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == project_id, Membership.role == Role.OWNER)
        )
        or 0
    )


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user whose email and password these are, else None (in the same time either way).
    A hash made with weaker parameters than today's is replaced."""
    user = find_user(session, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Store a new password; every other signed-in browser of the user is signed out."""
    check_password_rules(password, user.email)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise Invalid(
            "the current password is wrong", {"current_password": ["the current password is wrong"]}
        )
    set_password(session, user, new)


def set_password_by_link(session: Session, token: str, password: str, now: datetime) -> User:
    """Use the one-time link to set the user's password. The password is checked first, so a
    refused password does not use up the link."""
    link = links.find_link(session, token, now)
    user = session.get(User, link.user_id)
    assert user is not None  # the link's foreign key
    check_password_rules(password, user.email)
    links.use_link(session, token, now)
    set_password(session, user, password)
    return user


def sign_out_everywhere(session: Session, user: User) -> None:
    user.session_version += 1
    session.flush()


def record_sign_in(session: Session, user: User, now: datetime) -> None:
    user.signed_in_at = now
    session.flush()


def check_second_factor(
    session: Session, user: User, code: str, now: datetime, sealer: Sealer
) -> bool:
    """Whether the code is the user's current TOTP code, used for the first time. A seed
    still stored plain (from before seeds were sealed) is sealed once a code proves it."""
    if user.totp_secret is None:
        return False
    try:
        secret = totp.open_secret(sealer, user.totp_secret)
    except SealError:
        # Sealed under another SECRET_KEY: no code can be right until the operator puts the
        # key back (docs/app.md says so); refusing beats a 500 on the sign-in page.
        return False
    step = totp.accepted_step(secret, code, now, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    if not is_sealed(user.totp_secret):
        user.totp_secret = sealer.seal(secret)
    session.flush()
    return True


def enable_second_factor(
    session: Session, user: User, secret: str, code: str, now: datetime, sealer: Sealer
) -> None:
    """Turn on two-factor sign-in once the user proves their app shows the secret's codes."""
    step = totp.accepted_step(secret, code, now, None)
    if step is None:
        raise Invalid(
            "that code is not right",
            {"code": ["that code is not right: check that your phone's clock is set"]},
        )
    user.totp_secret = sealer.seal(secret)
    user.totp_last_step = step
    session.flush()


def disable_second_factor(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()
