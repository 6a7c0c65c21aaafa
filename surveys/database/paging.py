"""Keyset pagination: pages ordered by id, resumed after the last id seen (no OFFSET scans)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: int | None
    # Only for newest-first pages: where the page of newer items starts (exclusive).
    newer_than: int | None = None
    # Only for pages read within a window of rows (`latest_first_page`): the time the window
    # ended at before the page filled up; `next_after` then continues past the window.
    searched_to: Any = None


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


def newest_first_page(
    session: Session,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[int],
    *,
    limit: int,
    older_than: int | None,
    newer_than: int | None,
) -> Page[Any]:
    """A page ordered newest id first. `next_after` is the `older_than` of the next older page,
    `newer_than` the start of the next newer one; None where there is none."""
    if newer_than is not None:
        rows = session.scalars(
            stmt.where(id_column > newer_than).order_by(id_column).limit(limit + 1)
        ).all()
        items = list(reversed(rows[:limit]))
        more_newer = len(rows) > limit
        # Came back from an older page: the item that page started with is older still.
        return Page(items, items[-1].id if items else None, items[0].id if more_newer else None)
    if older_than is not None:
        stmt = stmt.where(id_column < older_than)
    rows = session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)).all()
    items = list(rows[:limit])
    older = items[-1].id if len(rows) > limit and items else None
    newer = items[0].id if older_than is not None and items else None
    return Page(items, older, newer)


def latest_first_page(  # noqa: PLR0913 (the statement, its two order columns, the page)
    session: Session,
    stmt: Select[Any],
    time_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[int],
    *,
    limit: int,
    older_than: int | None,
    newer_than: int | None,
    window: tuple[Select[Any], int] | None = None,
) -> Page[Any]:
    """A page ordered by `time_column` newest first, ties newest id first; the cursors are
    ids, as in `newest_first_page`, standing for their rows' place in that order.

    Walking an index on (…, time) backwards stops after `limit` matching rows, also when a
    time range is filtered: ordering by id with a time range instead sorts every row of the
    range. A cursor whose row is gone (erased) starts from the newest again.

    `window` (a statement of the rows the index alone selects, and a count) bounds an older
    page to that many rows of the walk, for conditions no index serves (a text search that
    matches little would otherwise read every row): when the window ends before the page
    fills, the page says how far back it searched and its `next_after` goes on from there."""
    cursor = newer_than if newer_than is not None else older_than
    at = None
    if cursor is not None:
        at = session.scalar(select(time_column).where(id_column == cursor))
    if at is None:
        newer_than = older_than = None
    if newer_than is not None:
        later = or_(time_column > at, and_(time_column == at, id_column > newer_than))
        # `time >= at` alone is what an index range can start from.
        rows = session.scalars(
            stmt.where(time_column >= at, later).order_by(time_column, id_column).limit(limit + 1)
        ).all()
        items = list(reversed(rows[:limit]))
        more_newer = len(rows) > limit
        return Page(items, items[-1].id if items else None, items[0].id if more_newer else None)
    newest_first = (time_column.desc(), id_column.desc())
    if older_than is not None:
        earlier = or_(time_column < at, and_(time_column == at, id_column < older_than))
        stmt = stmt.where(time_column <= at, earlier)
    edge = None
    if window is not None:
        # The window ends at the time of its `count`-th row: a walk of the time index alone
        # (no id in it, so PostgreSQL reads no table row either); the rows at that very time
        # all belong to the window, the oldest id of them is where the next page goes on.
        # Counted from before the cursor's time (its remaining ties are in the page anyway),
        # so each window ends earlier than the one before.
        walked = window[0].where(time_column < at) if older_than is not None else window[0]
        edge_time = session.scalar(
            walked.with_only_columns(time_column)
            .order_by(time_column.desc())
            .offset(window[1] - 1)
            .limit(1)
        )
        if edge_time is not None:
            edge_id = session.scalar(
                window[0].with_only_columns(func.min(id_column)).where(time_column == edge_time)
            )
            edge = (edge_time, edge_id)
            stmt = stmt.where(time_column >= edge_time)
    rows = session.scalars(stmt.order_by(*newest_first).limit(limit + 1)).all()
    items = list(rows[:limit])
    older = items[-1].id if len(rows) > limit and items else None
    newer = items[0].id if older_than is not None and items else None
    if edge is not None and len(rows) <= limit:
        return Page(items, edge[1], newer, searched_to=edge[0])
    return Page(items, older, newer)
