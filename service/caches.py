"""What outlives a request, in one place per app: the named caches and a way to empty them all.

The app factory makes one `Caches` and keeps it at `app.extensions["flywheel.caches"]`; the
worker runs inside the same app, so it shares the mechanism. Each member is an object with a
`size()` and a `clear()`; the domain's memoised pure functions (`surveys.memo`) are one more.
docs/architecture.md ("What outlives a request") lists every member and why it exists.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Flask, current_app

from surveys.memo import memo

EXTENSION = "flywheel.caches"


class Clearable(Protocol):
    def size(self) -> int: ...

    def clear(self) -> None: ...


class Caches:
    """The app's caches by name; `clear()` empties every one of them and the domain's memos."""

    def __init__(self) -> None:
        self._members: dict[str, Clearable] = {"memos": memo}

    def register(self, name: str, member: Clearable) -> Any:
        if name in self._members:
            raise ValueError(f"a cache named {name!r} is already registered")
        self._members[name] = member
        return member

    def __getitem__(self, name: str) -> Any:
        return self._members[name]

    def names(self) -> list[str]:
        return list(self._members)

    def sizes(self) -> dict[str, int]:
        """Entries held per member (a thread-bound member counts this thread's)."""
        return {name: member.size() for name, member in self._members.items()}

    def clear(self) -> None:
        for member in self._members.values():
            member.clear()


def caches_of(app: Flask) -> Caches:
    """The app's caches, made on first asking (the factory's first `init_app` asks)."""
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = Caches()
    return found


def caches() -> Caches:
    """The current app's caches."""
    return current_app.extensions[EXTENSION]
