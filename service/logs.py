"""Log hygiene: tokens in link paths and secrets in query strings or credential headers never
reach a log line, however the request spelled them."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote, unquote_plus

from gunicorn.glogging import Logger, SafeAtoms

# A logged value is looked at one whitespace-free piece at a time: a request target, a bare
# query string, a referer, or a word of a header.
_PIECE = re.compile(r"\S+")
# Matched on the decoded path: `/%72/<token>`, `/r%2F<token>` and `//r//<token>` reach the
# same page as `/r/<token>`. The email links (/r/, /u/, /t/) and the team app's one-time
# password links (/app/set-password/<token>).
_TOKEN_PATH = re.compile(r"/+([rut]|set-password)/+[^/]+", re.IGNORECASE)
_SECRET_NAMES = frozenset({"token", "key", "cursor", "user_hash"})
# What a redacted (hence decoded) path keeps as it is; anything else, such as a decoded space,
# quote or line break, is percent-encoded again so that it cannot forge a log line.
_PATH_SAFE = "!$&'()*+,/:;=?@[]"

# Request headers (and their environ twins) that are a credential as a whole.
_SECRET_ATOM = re.compile(r"\{(?:http_)?(?:authorization|cookie|x[-_]flywheel[-_]key)\}[ie]")
# Atoms that never carry a secret: addresses, times, sizes, status, method, protocol, pid.
_PLAIN_ATOMS = frozenset("hlutsbBmHTDMLp")


def _decoded(text: str, unquote_once: Callable[[str], str]) -> str:
    # Until nothing changes: a double-encoded `%2572` is an `r` to whoever decodes twice.
    # Each round that changes something shortens the text, so this ends.
    while (plain := unquote_once(text)) != text:
        text = plain
    return text


def _redact_path(raw: str) -> str:
    plain = _decoded(raw, unquote)
    redacted = _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/[redacted]", plain)
    return raw if redacted == plain else quote(redacted, safe=_PATH_SAFE)


def _redact_query(raw: str) -> str:
    # Split and decoded as werkzeug reads `request.args`: pairs on `&`, the name before the
    # first `=`, `+` for a space; the whole value goes, the name stays as it was sent.
    pairs = raw.split("&")
    for i, pair in enumerate(pairs):
        name, eq, _value = pair.partition("=")
        if eq and _decoded(name, unquote_plus).strip().lower() in _SECRET_NAMES:
            pairs[i] = f"{name}=[redacted]"
    return "&".join(pairs)


def _redact_piece(match: re.Match[str]) -> str:
    path, question, query = match.group().partition("?")
    if question:
        return f"{_redact_path(path)}?{_redact_query(query)}"
    # No `?`: a path, or a bare query string (gunicorn's `q` atom), or neither.
    return _redact_query(_redact_path(path))


def redact(text: str) -> str:
    return _PIECE.sub(_redact_piece, text)


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
