"""Log hygiene: tokens in link paths and secrets in query strings or credential headers never
reach a log line."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger, SafeAtoms

# The email links (/r/, /u/, /t/) and the team app's one-time password links.
_TOKEN_PATH = re.compile(r"/(r|u|t|set-password)/[^/?\s\"]+")
# In a URL or a bare query string (gunicorn's `q` atom has no leading `?`).
_SECRET_QUERY = re.compile(
    r"((?:^|[?&])(?:token|key|cursor|user_hash)=)[^&\s\"]+", re.IGNORECASE | re.MULTILINE
)
# Request headers (and their environ twins) that are a credential as a whole.
_SECRET_ATOM = re.compile(r"\{(?:http_)?(?:authorization|cookie|x[-_]flywheel[-_]key)\}[ie]")
# Atoms that never carry a secret: addresses, times, sizes, status, method, protocol, pid.
_PLAIN_ATOMS = frozenset("hlutsbBmHTDMLp")


def redact(text: str) -> str:
    text = _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/[redacted]", text)
    return _SECRET_QUERY.sub(r"\1[redacted]", text)


class RedactedAtoms(SafeAtoms):
    """gunicorn's access-log atoms, redacted as the format reads them: whatever atoms an
    operator puts in `access_log_format` (the request line, the query string, the referer, any
    header or environ value) are covered, and only those the format uses are looked at."""

    def __getitem__(self, key: str):  # noqa: ANN204 (a str or a number, as gunicorn's)
        value = super().__getitem__(key)
        if not isinstance(value, str) or key in _PLAIN_ATOMS:
            return value
        if _SECRET_ATOM.fullmatch(key.lower()):
            return "[redacted]" if value != "-" else value
        return redact(value)


class RedactingLogger(Logger):
    atoms_wrapper_class = RedactedAtoms
