"""Domain errors: what went wrong in the rules, named once; the web layer maps them to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"


class PersonErased(NotFound):
    """The person a write was for was erased by a concurrent request meanwhile."""


class Invalid(DomainError):
    code = "invalid"


class Conflict(DomainError):
    code = "conflict"


class SurveyClosed(Conflict):
    code = "survey_closed"


class AlreadyAnswered(Conflict):
    code = "already_answered"


class Forbidden(DomainError):
    """The caller may see the thing but not do this to it (e.g. delete another's note)."""

    code = "forbidden"
