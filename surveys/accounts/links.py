"""One-time links: issued for an invite, a password reset or a first sign-in, each good once
and for a limited time; only the token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.models import OneTimeLink, User


class Purpose(StrEnum):
    INVITE = "invite"  # an owner invited someone to a project
    RESET = "reset"  # "forgot password"
    SIGN_IN = "sign_in"  # printed by the CLI for an operator's first sign-in


LIFETIME: dict[Purpose, timedelta] = {
    Purpose.INVITE: timedelta(days=7),
    Purpose.RESET: timedelta(hours=1),
    Purpose.SIGN_IN: timedelta(days=7),
}


class LinkUnusable(Exception):
    """The link is unknown, used already or expired: `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, user: User, purpose: Purpose, now: datetime) -> str:
    """A new token (shown once, in the link); earlier unused links of the same purpose stop
    working, so only the latest email counts."""
    session.execute(
        update(OneTimeLink)
        .where(
            OneTimeLink.user_id == user.id,
            OneTimeLink.purpose == purpose.value,
            OneTimeLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        OneTimeLink(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    session.flush()
    return token


def find_link(session: Session, token: str, now: datetime) -> OneTimeLink:
    """The usable link of this token; `LinkUnusable` otherwise. Reading uses nothing up."""
    link = session.scalar(select(OneTimeLink).where(OneTimeLink.token_hash == _digest(token)))
    if link is None:
        raise LinkUnusable("unknown")
    if link.used_at is not None:
        raise LinkUnusable("used")
    if link.expires_at <= now:
        raise LinkUnusable("expired")
    return link


def use_link(session: Session, token: str, now: datetime) -> OneTimeLink:
    """Mark the link used and return it. Two requests racing with one link: the guarded
    UPDATE lets exactly one of them through."""
    link = find_link(session, token, now)
    used = session.execute(
        update(OneTimeLink)
        .where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise LinkUnusable("used")
    return link
