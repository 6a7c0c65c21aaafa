"""Password rules and argon2id hashes (argon2-cffi with its RFC 9106 defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from surveys.errors import Invalid
from surveys.memo import memo

MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing one costs what hashing any does.
MAX_LENGTH = 256

HASHER = PasswordHasher()


@memo()
def _decoy() -> str:
    """Verified against when no user has the email, so an unknown address costs the same time
    as a wrong password and sign-in does not tell which addresses have accounts."""
    return HASHER.hash("a password nobody has")


def check_password_rules(password: str, email: str) -> None:
    """Length bounds, and not the email itself (NIST SP 800-63B: length, not composition)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if password.strip().lower() in {email.lower(), email.split("@")[0].lower()}:
        problems.append("must not be your email address")
    if problems:
        raise Invalid("password: " + "; ".join(problems), {"password": problems})


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; takes the same time when there is no hash."""
    try:
        return HASHER.verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True after the hasher's parameters were raised: the next sign-in stores a new hash."""
    return HASHER.check_needs_rehash(password_hash)
