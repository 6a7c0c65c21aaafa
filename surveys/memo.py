"""Memoised pure functions: one decorator, one list of what it memoises, one way to empty it.

Only functions of immutable arguments whose answer never changes while the code is loaded (a
statement built per dialect, a time zone per name, a Jinja environment) are memoised here; a
cache whose entries can go stale (settings read from the database) belongs to the app's
`Caches` instead. The list is written while modules are imported, never by a request, so the
app's `Caches.clear()` can empty every memo from this one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class MemoInfo(NamedTuple):
    name: str  # module.function
    size: int
    limit: int | None  # None: as many as there are distinct arguments (a handful, by design)


class Memos:
    """The registry behind `memo`: every function it decorated, to list and to clear."""

    def __init__(self) -> None:
        self._functions: list[Any] = []

    def __call__(self, maxsize: int | None = None) -> Callable[[F], F]:
        def decorate(function: F) -> F:
            cached = functools.lru_cache(maxsize=maxsize)(function)
            self._functions.append(cached)
            return cached  # type: ignore[return-value]

        return decorate

    def info(self) -> list[MemoInfo]:
        return [
            MemoInfo(
                f"{f.__module__}.{f.__qualname__}", f.cache_info().currsize, f.cache_info().maxsize
            )
            for f in self._functions
        ]

    def size(self) -> int:
        """How many answers are remembered, over every memoised function."""
        return sum(f.cache_info().currsize for f in self._functions)

    def clear(self) -> None:
        for function in self._functions:
            function.cache_clear()


memo = Memos()
