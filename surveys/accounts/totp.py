"""Two-factor codes (TOTP, RFC 6238, through pyotp): secrets, sealing them at rest, the
authenticator URI, and checking a code once."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp

from surveys.sealed import Sealer, is_sealed

ISSUER = "Flywheel"
# One step either side: a phone clock 30 seconds off still works.
DRIFT_STEPS = 1


# The sealing purpose: a TOTP seed opens under this key and no other.
SEAL_PURPOSE = "totp"


def sealer(secret_key: str) -> Sealer:
    return Sealer(secret_key, SEAL_PURPOSE)


def open_secret(sealer: Sealer, stored: str) -> str:
    """The seed of a stored value. Values written before seeds were sealed are read as they
    are (the caller seals them again once they prove right); a sealed value that does not open
    raises SealError."""
    return sealer.open(stored) if is_sealed(stored) else stored


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to, when it is right and newer than `last_step` (a code
    already used, even within its 30 seconds, is refused); None otherwise."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    moment = now.replace(tzinfo=UTC)  # stored times are naive UTC; pyotp takes naive as local
    current = totp.timecode(moment)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        step = current + offset
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(moment, counter_offset=offset), code):
            return step
    return None
