"""Period answers: each person's counted answer per survey and period, kept as answers arrive.

A person's segment in a period is that of their latest non-excluded scored answer there.
Ranking every stored answer to find it costs seconds on a million answers, so the counted
answer of each (survey, unit, period, person) is kept in `period_answers` instead: written
when an answer arrives, worked out again when an answer is edited or excluded, and rebuilt
for the whole project when its time zone changes (the periods move). Movement then pairs two
periods of these rows.

Each row also carries its person's row in the previous period of the unit (`prev_score`,
`prev_weight`, and `rise`, the segment rank gained since): written with the row and again
whenever the previous period's row changes (a late answer), so that the movement between
consecutive periods reads one period's rows (`link`). `weight` is the counted answer's
revenue property (`KEPT_WEIGHT`), so that weighted movement needs no answer row either.

Concurrent writers stay correct without locks: a row is only ever replaced by a later answer
(the upsert's WHERE), so the order in which two transactions commit does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.database import planner_statistics
from surveys.database.prepared import PreparedWrite
from surveys.memo import memo
from surveys.models import PeriodAnswer, Project, Survey, SurveyResponse
from surveys.periods import (
    Period,
    next_period,
    period_from_label,
    period_of,
    periods_between,
    previous_period,
)
from surveys.property_refs import numeric_property
from surveys.segments import rank_case, rank_of

KEPT_UNITS = ("quarter", "month")
# The property kept as each row's weight: the team app's revenue property by default.
KEPT_WEIGHT = "mrr"
_KEY = ("survey_id", "unit", "period", "person_id")
_UPSERT_COLUMNS = _KEY + ("score", "created_at", "response_id", "weight")
# A row's link to its previous period's row (see `_link_values`).
_LINK_COLUMNS = ("prev_score", "prev_weight", "rise")


def is_current(project: Project) -> bool:
    """Whether the project's rows are cut in its present time zone and may be read."""
    return project.periods_zone == project.time_zone


@memo(maxsize=8)
def _upsert(dialect: str, linked: bool = False) -> Insert:
    """Built once per dialect: the statement runs on every recorded answer. `linked`: the
    rows come with their previous-period fields, which a replaced row takes too."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The table, not the mapped class: an ORM-enabled INSERT pays for the ORM's bulk machinery
    # on every answer.
    stmt = insert(PeriodAnswer.__table__)
    new, old = stmt.excluded, PeriodAnswer.__table__.c
    later = or_(
        new.created_at > old.created_at,
        and_(new.created_at == old.created_at, new.response_id > old.response_id),
    )
    replaced = _UPSERT_COLUMNS[len(_KEY) :] + (_LINK_COLUMNS if linked else ())
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={name: new[name] for name in replaced},
        where=later,
    )


def kept_weight(properties: dict[str, Any] | None) -> float | None:
    """`KEPT_WEIGHT` of a snapshot as a float: the Python twin of `numeric_property`, which
    counts JSON numbers only (not booleans, not numeric strings)."""
    value = (properties or {}).get(KEPT_WEIGHT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _link_values(prev_label: ColumnElement[Any]) -> dict[str, Any]:
    """SET clause: the row's previous-period fields, read from that period's row of the same
    person (null when there is none)."""
    pa = PeriodAnswer.__table__.c
    return _link_fields(prev_label, pa.survey_id, pa.unit, pa.person_id, rank_case(pa.score))


def _link_fields(
    prev_label: Any, survey_id: Any, unit: Any, person_id: Any, rank: Any
) -> dict[str, Any]:
    """A row's previous-period fields, given its key and its score's segment rank as
    expressions: the table's own columns in an UPDATE (`_link_values`), parameters in an
    INSERT's VALUES (`_prepared_upsert_linked`)."""
    before = PeriodAnswer.__table__.alias("before").c

    def earlier(column: Any) -> Any:
        return (
            select(column)
            .where(
                before.survey_id == survey_id,
                before.unit == unit,
                before.period == prev_label,
                before.person_id == person_id,
            )
            .scalar_subquery()
        )

    # Each field is its own seek of the previous row's key: a subquery used inside another
    # expression would be run once per use.
    return {
        "prev_score": earlier(before.score),
        "prev_weight": earlier(before.weight),
        "rise": rank - earlier(rank_case(before.score)),
    }


_LINK_SLOTS = ("quarter", "month")


@memo(maxsize=1)
def _link_one() -> PreparedWrite:
    """UPDATE linking one person's rows of one answer's periods and of the periods after them
    (a late answer changes what the next period moved from): two rows per unit at most.

    Compiled once per dialect and run on the driver: as an expression through the session,
    working out its cache key and execution context on every answer cost more than running it.
    """
    return PreparedWrite(_link_one_expression(), None)


def _link_one_expression() -> Any:
    pa = PeriodAnswer.__table__.c
    labels = {
        f"{u}_{k}": bindparam(f"{u}_{k}", type_=String(8))
        for u in _LINK_SLOTS
        for k in ("at", "before", "after")
    }
    prev_label = case(
        *[
            (pa.period == labels[f"{u}_{at}"], labels[f"{u}_{before}"])
            for u in _LINK_SLOTS
            for at, before in (("at", "before"), ("after", "at"))
        ],
        else_=null(),
    )
    return (
        update(PeriodAnswer.__table__)
        .where(
            pa.survey_id == bindparam("s"),
            pa.unit.in_([literal(u, String(8)) for u in KEPT_UNITS]),
            pa.period.in_([labels[f"{u}_{k}"] for u in _LINK_SLOTS for k in ("at", "after")]),
            pa.person_id == bindparam("p"),
        )
        .values(_link_values(prev_label))
    )


def link_answer(session: Session, time_zone: str, survey_id: int, person_id: int, at: Any) -> None:
    """Link the person's rows of the periods holding `at` (and of the periods after them) to
    their previous periods' rows: one UPDATE, what every recorded or changed answer runs."""
    params: dict[str, Any] = {"s": survey_id, "p": person_id}
    for unit in KEPT_UNITS:
        p = period_of(at, unit, time_zone)
        params[f"{unit}_at"] = p.label
        params[f"{unit}_before"] = previous_period(p, unit, time_zone).label
        params[f"{unit}_after"] = next_period(p, unit, time_zone).label
    _link_one().execute(session, params)


def _previous_labels(periods: Iterable[Period], unit: str, time_zone: str) -> dict[str, str]:
    """Each period's label -> the label of the period before it."""
    return {p.label: previous_period(p, unit, time_zone).label for p in periods}


def link(
    session: Session, time_zone: str, unit: str, labels: list[str], *where: ColumnElement[bool]
) -> int:
    """Link every row of the `labels` periods (and of the periods right after them) matching
    `where` to its previous period's row: what the bulk paths run once their rows are in."""
    if not labels:
        return 0
    pa = PeriodAnswer.__table__.c
    periods = {label: period_from_label(label, unit, time_zone) for label in labels}
    for label in labels:
        after = next_period(periods[label], unit, time_zone)
        periods.setdefault(after.label, after)
    prev_label = case(
        _previous_labels(periods.values(), unit, time_zone), value=pa.period, else_=null()
    )
    stmt = (
        update(PeriodAnswer.__table__)
        .where(pa.unit == unit, pa.period.in_(list(periods)), *where)
        .values(_link_values(prev_label))
    )
    return session.execute(stmt).rowcount or 0


@memo(maxsize=4)
def _prepared_upsert(dialect: str) -> PreparedWrite:
    """`_upsert` compiled once: an answer's two rows go straight to the driver."""
    return PreparedWrite(_upsert(dialect), _UPSERT_COLUMNS)


def answer_rows(time_zone: str, response: Any) -> list[dict[str, Any]]:
    """The period rows (one per kept unit) of a counted answer."""
    return [row for _, row in _answer_periods(time_zone, response)]


def _answer_periods(time_zone: str, response: Any) -> list[tuple[Period, dict[str, Any]]]:
    """Each kept unit's period of a counted answer, with the answer's row in it."""
    weight = kept_weight(response.properties)
    found = []
    for unit in KEPT_UNITS:
        at = period_of(response.created_at, unit, time_zone)
        row = {
            "survey_id": response.survey_id,
            "unit": unit,
            "period": at.label,
            "person_id": response.person_id,
            "score": response.score,
            "created_at": response.created_at,
            "response_id": response.id,
            "weight": weight,
        }
        found.append((at, row))
    return found


@memo(maxsize=4)
def _prepared_upsert_answer(dialect: str) -> PreparedWrite:
    """`_upsert` of one answer's rows, one per kept unit, as one statement of that many VALUES
    (the parameters of row i suffixed `_i`)."""
    table = PeriodAnswer.__table__
    values = [
        {c: bindparam(f"{c}_{i}", type_=table.c[c].type) for c in _UPSERT_COLUMNS}
        for i in range(len(KEPT_UNITS))
    ]
    return PreparedWrite(_upsert(dialect).values(values), None)


def upsert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Each row becomes its person's counted answer of its period where it is the latest."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and [row["unit"] for row in rows] == list(KEPT_UNITS):
        # An answer's rows (`answer_rows`), distinct keys, in one statement: psycopg runs an
        # executemany as a pipeline, 140 us of CPU per answer against 86 us. sqlite3's own
        # executemany is the cheaper of the two there (56 us against 67 us).
        params = {f"{c}_{i}": row[c] for i, row in enumerate(rows) for c in _UPSERT_COLUMNS}
        _prepared_upsert_answer(dialect).execute(session, params)
    else:
        _prepared_upsert(dialect).execute_many(session, rows)


@memo(maxsize=4)
def _prepared_upsert_linked(dialect: str) -> PreparedWrite:
    """`_upsert` of one answer's rows, one per kept unit, each with its link to its previous
    period's row read in the same statement (parameters of row i prefixed `ri_`, with the
    previous period's label as `ri_before` and the score's segment rank as `ri_rank`; not
    suffixed, as SQLAlchemy names the CASE's own literals `score_1` ...): what an answer
    after every other of its person writes."""
    table = PeriodAnswer.__table__
    values = []
    for i in range(len(KEPT_UNITS)):
        row = {c: bindparam(f"r{i}_{c}", type_=table.c[c].type) for c in _UPSERT_COLUMNS}
        # The new score's rank comes as a parameter (`rank_of`, the Python twin of
        # `rank_case`): the score's own parameter may appear once per VALUES row.
        row |= _link_fields(
            bindparam(f"r{i}_before", type_=String(8)),
            row["survey_id"],
            row["unit"],
            row["person_id"],
            bindparam(f"r{i}_rank", type_=Integer()),
        )
        values.append(row)
    return PreparedWrite(_upsert(dialect, linked=True).values(values), None)


def count_answer(
    session: Session, time_zone: str, response: Any, *, answered_since: bool = True
) -> None:
    """A new answer: it becomes its person's counted answer wherever it is the latest.

    `answered_since`: the person may have answered the survey after this answer's time
    (stored answers later than it). When they have not, as with nearly every answer as it
    arrives, no row of a later period exists to relink, and the answer's own rows take
    their links in the upsert itself: one statement instead of two. Otherwise the rows and
    the rows of the periods after them are linked by `link_answer`."""
    if response.survey_id is None or response.score is None or response.excluded:
        return
    if answered_since:
        upsert_rows(session, answer_rows(time_zone, response))
        link_answer(session, time_zone, response.survey_id, response.person_id, response.created_at)
        return
    params: dict[str, Any] = {}
    rank = rank_of(response.score)
    for i, (at, row) in enumerate(_answer_periods(time_zone, response)):
        params.update({f"r{i}_{c}": row[c] for c in _UPSERT_COLUMNS})
        params[f"r{i}_before"] = previous_period(at, row["unit"], time_zone).label
        params[f"r{i}_rank"] = rank
    _prepared_upsert_linked(session.get_bind().dialect.name).execute(session, params)


def recount(session: Session, time_zone: str, response: SurveyResponse) -> None:
    """An answer changed (score, exclusion): its periods' counted answers are worked out again
    from that person's stored answers."""
    if response.survey_id is None:
        return
    session.flush()
    for unit in KEPT_UNITS:
        p = period_of(response.created_at, unit, time_zone)
        key = PeriodAnswer.__table__.c
        session.execute(
            delete(PeriodAnswer).where(
                key.survey_id == response.survey_id,
                key.unit == unit,
                key.period == p.label,
                key.person_id == response.person_id,
            )
        )
        _insert_latest(
            session,
            unit,
            [p],
            SurveyResponse.survey_id == response.survey_id,
            SurveyResponse.person_id == response.person_id,
            SurveyResponse.created_at >= p.start,
            SurveyResponse.created_at < p.end,
        )
    link_answer(session, time_zone, response.survey_id, response.person_id, response.created_at)


def forget_person(session: Session, person_id: int) -> None:
    """Delete the person's rows (their erasure), sought by `ix_period_answers_person_id`
    (revision 0022). Before it, the DELETE walked every project's rows (40-90 ms at a
    million, 1.1 s from a cold cache), and so did the cascade from the person row."""
    key = PeriodAnswer.__table__.c
    session.execute(delete(PeriodAnswer).where(key.person_id == person_id))


def rebuild(session: Session, project: Project) -> int:
    """Every row of the project again, cut in its present time zone; returns the row count.

    One ranking pass per unit over the project's answers: the cost `count_answer` saves on
    every read, paid once when the periods move.
    """
    surveys = select(Survey.id).where(Survey.project_id == project.id)
    session.execute(delete(PeriodAnswer).where(PeriodAnswer.survey_id.in_(surveys)))
    r = SurveyResponse
    counted = (r.project_id == project.id, r.survey_id.is_not(None), *_counted())
    first, last = session.execute(
        select(func.min(r.created_at), func.max(r.created_at)).where(*counted)
    ).one()
    total = 0
    if first is not None:
        for unit in KEPT_UNITS:
            periods = periods_between(first, last, unit, project.time_zone)
            total += _insert_latest(session, unit, periods, r.project_id == project.id)
            planner_statistics.cover_written(session, {"period_answers": total})
            link(
                session,
                project.time_zone,
                unit,
                [p.label for p in periods],
                PeriodAnswer.survey_id.in_(surveys),
            )
    project.periods_zone = project.time_zone
    # Every answer stored when the rebuild read them is counted: the check starts after them.
    project.periods_checked_id = session.scalar(
        select(func.max(r.id)).where(r.project_id == project.id)
    )
    session.flush()
    return total


def count_range(
    session: Session, time_zone: str, project_id: int, first_id: int, last_id: int
) -> int:
    """Answers stored in bulk with ids from `first_id` to `last_id`: each becomes its person's
    counted answer wherever it is the latest, in one INSERT ... SELECT per unit.

    Other answers of the project inside the id range (a concurrent writer's) are counted
    again harmlessly: a row is only ever replaced by a later answer.
    """
    r = SurveyResponse
    # `project_id + 0`: the id range is what narrows the rows; a plain `project_id =` lets
    # SQLite pick the project's index and scan every answer of the project for each batch.
    where = ((r.project_id + 0) == project_id, r.id >= first_id, r.id <= last_id)
    first, last = session.execute(
        select(func.min(r.created_at), func.max(r.created_at)).where(
            *where, r.survey_id.is_not(None), *_counted()
        )
    ).one()
    if first is None:
        return 0
    total = 0
    answers = last_id - first_id + 1
    for units, unit in enumerate(KEPT_UNITS, 1):
        periods = periods_between(first, last, unit, time_zone)
        previous = _previous_labels(periods, unit, time_zone)
        total += _insert_latest(session, unit, periods, *where, previous=previous)
        # Up to one row per answer in each unit written so far.
        planner_statistics.cover_written(
            session, {"period_answers": answers * units, "survey_responses": answers}
        )
        _link_next(session, time_zone, unit, periods, *where)
    return total


def _link_next(
    session: Session, time_zone: str, unit: str, periods: list[Period], *where: ColumnElement[bool]
) -> int:
    """Link again each row whose previous period's row the answers matching `where` may
    have changed: their person's row in the period right after each answer's. The rows of
    the answers' own periods came linked (`_insert_latest`), but to the rows as they stood
    before: a row whose previous period the same batch wrote is one of these too.

    One UPDATE ... FROM the answers' distinct (survey, person, next period), each row sought
    by its key; an import in time order mostly finds none."""
    r = SurveyResponse
    pa = PeriodAnswer.__table__.c
    after = {p.label: next_period(p, unit, time_zone) for p in periods}
    touched = (
        select(
            r.survey_id,
            r.person_id,
            period_case(periods, [after[p.label].label for p in periods]).label("period"),
        )
        .where(r.survey_id.is_not(None), *_counted(), *where)
        .distinct()
        .subquery("touched")
    )
    # The period before each of those is the answers' own.
    prev_label = case(
        {after[p.label].label: p.label for p in periods}, value=pa.period, else_=null()
    )
    stmt = (
        update(PeriodAnswer.__table__)
        .where(
            pa.unit == unit,
            pa.survey_id == touched.c.survey_id,
            pa.person_id == touched.c.person_id,
            pa.period == touched.c.period,
        )
        .values(_link_values(prev_label))
    )
    return session.execute(stmt).rowcount or 0


def check_kept(session: Session, project: Project) -> tuple[int | None, bool]:
    """(the highest answer id checked, whether an answer lacks its period row) for the
    project's answers stored since the last check.

    An answer written past the upkeep (plain SQL, a restore, a bulk load that skipped it)
    has no period row holding it or a later answer of its person; finding one means the
    pre-aggregate disagrees with the answers. Only answers past the last checked id are
    read, so the check costs what was stored since.
    """
    r, pa = SurveyResponse, PeriodAnswer
    after = project.periods_checked_id or 0
    fresh = (r.project_id == project.id, r.id > after, r.survey_id.is_not(None), *_counted())
    first, last, top = session.execute(
        select(func.min(r.created_at), func.max(r.created_at), func.max(r.id)).where(*fresh)
    ).one()
    if top is None:
        return None, False
    for unit in KEPT_UNITS:
        periods = periods_between(first, last, unit, project.time_zone)
        holding = select(pa.person_id).where(
            pa.survey_id == r.survey_id,
            pa.unit == unit,
            pa.period == period_case(periods, [p.label for p in periods]),
            pa.person_id == r.person_id,
            or_(
                pa.created_at > r.created_at,
                and_(pa.created_at == r.created_at, pa.response_id >= r.id),
            ),
        )
        missing = select(r.id).where(*fresh, ~holding.exists()).limit(1)
        if session.scalar(missing) is not None:
            return top, True
    return top, False


def mark_stale(session: Session, project: Project) -> None:
    """Reads fall back to the answers themselves until the worker has rebuilt the rows."""
    project.periods_zone = None
    session.flush()


def stale_projects(session: Session) -> list[int]:
    """Projects whose rows must be rebuilt before they are read."""
    p = Project
    stale = or_(p.periods_zone.is_(None), p.periods_zone != p.time_zone)
    return list(session.scalars(select(p.id).where(stale).order_by(p.id)))


def _counted() -> tuple[ColumnElement[bool], ...]:
    return (SurveyResponse.score.is_not(None), SurveyResponse.excluded.is_(False))


def period_case(
    periods: list[Period], values: list[Any], column: ColumnElement[Any] | None = None
) -> ColumnElement[Any]:
    """CASE giving `values[i]` for an answer made in `periods[i]` (or a row whose `column`
    time falls in it); null outside every period, gaps between periods included. `periods`
    are ordered."""
    created = SurveyResponse.created_at if column is None else column
    whens: list[tuple[ColumnElement[bool], Any]] = []
    for i, p in enumerate(periods):
        if i == 0 or periods[i - 1].end != p.start:
            whens.append((created < p.start, null()))
        whens.append((created < p.end, values[i]))
    return case(*whens, else_=null())


def _insert_latest(
    session: Session,
    unit: str,
    periods: list[Period],
    *where: ColumnElement[bool],
    previous: dict[str, str] | None = None,
) -> int:
    """INSERT ... SELECT each person's latest counted answer per survey and period.

    `previous` (each period's label -> the label of the period before it): the rows come
    linked to their previous period's rows as they stood before the statement, as `link`
    would link them."""
    r = SurveyResponse
    label = period_case(periods, [p.label for p in periods])
    ranked = (
        select(
            r.survey_id,
            label.label("period"),
            r.person_id,
            r.score,
            r.created_at,
            r.id.label("response_id"),
            numeric_property(session, KEPT_WEIGHT, "weight").label("weight"),
            func.row_number()
            .over(
                partition_by=(r.survey_id, r.person_id, label),
                order_by=(r.created_at.desc(), r.id.desc()),
            )
            .label("rn"),
        )
        .where(r.survey_id.is_not(None), *_counted(), *where)
        .subquery("ranked")
    )
    c = ranked.c
    rows = select(
        c.survey_id,
        cast(literal(unit), String(8)).label("unit"),
        c.period,
        c.person_id,
        c.score,
        c.created_at,
        c.response_id,
        c.weight,
    ).where(c.rn == 1, c.period.is_not(None))
    columns = list(_UPSERT_COLUMNS)
    if previous is not None:
        # One seek of the previous period's row per row, joined: the UPDATE of `link` needs
        # one per field.
        earlier = PeriodAnswer.__table__.alias("before")
        before = earlier.c
        rows = rows.outerjoin(
            earlier,
            and_(
                before.survey_id == c.survey_id,
                before.unit == unit,
                before.period == case(previous, value=c.period, else_=null()),
                before.person_id == c.person_id,
            ),
        ).add_columns(
            before.score.label("prev_score"),
            before.weight.label("prev_weight"),
            (rank_case(c.score) - rank_case(before.score)).label("rise"),
        )
        columns += _LINK_COLUMNS
    dialect = session.get_bind().dialect.name
    stmt = _upsert(dialect, linked=previous is not None).from_select(columns, rows)
    # SQLAlchemy keeps an INSERT's row count only when asked (its result closes at once,
    # and psycopg's closed cursor reports -1).
    return session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount
