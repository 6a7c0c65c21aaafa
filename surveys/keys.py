"""Project keys: generation, hashing for storage, and the derived widget identity secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SECRET_PREFIX = "fw_sk_"
PUBLISHABLE_PREFIX = "fw_pk_"


@dataclass(frozen=True)
class IssuedKeys:
    secret_key: str
    publishable_key: str
    identity_salt: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_keys() -> IssuedKeys:
    return IssuedKeys(
        secret_key=SECRET_PREFIX + secrets.token_urlsafe(32),
        publishable_key=PUBLISHABLE_PREFIX + secrets.token_urlsafe(24),
        identity_salt=secrets.token_hex(16),
    )


def identity_secret(app_secret: str, identity_salt: str) -> str:
    """The secret a customer's server uses to sign `user_hash`; derived, never stored."""
    digest = hmac.new(app_secret.encode(), f"identity:{identity_salt}".encode(), hashlib.sha256)
    return "fw_id_" + digest.hexdigest()


def user_hash(secret: str, external_id: str) -> str:
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def verify_user_hash(secret: str, external_id: str, given: str | None) -> bool:
    """Whether `given` is the user_hash of external_id; never with an empty secret (a page
    could sign with one), and as bytes: `compare_digest` refuses non-ASCII text."""
    if not given or not secret:
        return False
    expected = user_hash(secret, external_id).encode()
    return hmac.compare_digest(expected, given.lower().encode("utf-8", "surrogatepass"))
