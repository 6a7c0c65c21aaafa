"""Log hygiene: tokens in link paths and secrets in query strings never reach a log line."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_TOKEN_PATH = re.compile(r"/(r|u|t)/[^/?\s\"]+")
_SECRET_QUERY = re.compile(r"([?&](?:token|key|cursor|user_hash)=)[^&\s\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    text = _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/[redacted]", text)
    return _SECRET_QUERY.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "{raw_uri}e", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
