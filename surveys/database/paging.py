"""Keyset pagination: pages ordered by id, resumed after the last id seen (no OFFSET scans)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: int | None


def keyset_page(
    session: Session,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[int],
    *,
    limit: int,
    after: int | None,
) -> Page[Any]:
    if after is not None:
        stmt = stmt.where(id_column > after)
    rows = session.scalars(stmt.order_by(id_column).limit(limit + 1)).all()
    has_more = len(rows) > limit
    items = rows[:limit]
    return Page(items, items[-1].id if has_more and items else None)
