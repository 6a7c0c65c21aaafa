"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets and headers.

Signed with the `standardwebhooks` reference library itself (pure Python, no dependencies),
so what a receiver verifies with it is exactly what was computed here.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook as Signer

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MSG_PREFIX = "msg_"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_msg_id() -> str:
    """The `webhook-id`: unique per message, the same on every attempt to deliver it."""
    return MSG_PREFIX + secrets.token_hex(16)


def headers(secret: str, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The three headers of one attempt; the timestamp is when this attempt is sent, so a
    receiver's replay window is measured against the attempt, not the event."""
    stamp = sent_at.replace(tzinfo=UTC) if sent_at.tzinfo is None else sent_at
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, stamp, body),
    }
