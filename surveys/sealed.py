"""Secrets the service must read back (TOTP seeds, webhook signing secrets), sealed at rest.

Keys and passwords that only need checking are hashed; these cannot be, because the service
signs or computes with them later. They are stored as Fernet tokens (AES-128-CBC with an
HMAC-SHA256 tag) under a key derived from SECRET_KEY, so a copy of the database alone does
not give them away. Each purpose derives its own key: a value sealed for one use cannot be
opened as another.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Stored tokens start with this, so a reader can tell a sealed value from an old plain one.
PREFIX = "fw1:"


class SealError(ValueError):
    """A stored value that cannot be opened: not sealed, tampered with, or another key's."""


class Sealer:
    """Seals and opens strings for one purpose under a key derived from the app's secret."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=f"flywheel sealed {purpose}".encode(),
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            raise SealError("value is not sealed")
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SealError("sealed value does not open with this key") from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
