"""The responses feed: newest answers first, filtered, each with its person and movement."""

from __future__ import annotations

from flask import render_template, request

from service.app.page_args import FEED_PAGE_SIZE, FeedArgs, feed_filters, parse
from service.app.shell import bp, team
from service.app.triage import page_path, triage_filter_choices, triage_of
from service.db import db
from surveys.answers import RESPONSE_CHANNELS
from surveys.catalog import list_surveys
from surveys.periods import period_from_label
from surveys.response_context import response_contexts
from surveys.response_filters import SEARCH_WINDOW, list_newest_responses
from surveys.segments import SEGMENTS, segment_of
from surveys.themes.reading import list_points

SURVEYS_SHOWN = 200


@bp.app_template_filter("segment_name")
def segment_name(score: int | None) -> str | None:
    segment = segment_of(score)
    return segment.value if segment else None


@bp.get("/responses")
def responses():  # noqa: ANN201
    args = parse(FeedArgs(), request.args)
    project = team().project
    period = (
        period_from_label(args["period"], "quarter", project.time_zone)
        if args.get("period")
        else None
    )
    page = list_newest_responses(
        db(),
        project.id,
        feed_filters(args, (period.start, period.end) if period else None),
        limit=FEED_PAGE_SIZE,
        older_than=args.get("older"),
        newer_than=args.get("newer"),
        search_window=SEARCH_WINDOW,
    )
    kept = {k: v for k, v in request.args.items() if k not in ("older", "newer") and v}
    _, points = list_points(db(), project.id, None)
    surveys = list_surveys(db(), project.id, limit=SURVEYS_SHOWN, after=None, active=None).items
    return render_template(
        "app/responses.html",
        items=page.items,
        contexts=response_contexts(db(), project.id, page.items),
        older={**kept, "older": page.next_after} if page.next_after else None,
        searched_to=page.searched_to,
        newer={**kept, "newer": page.newer_than} if page.newer_than else None,
        chosen=kept,
        filtered=bool(kept),
        choices=[
            ("segment", "Segment", [(s.value, s.value) for s in SEGMENTS]),
            ("channel", "Channel", [(c, c) for c in RESPONSE_CHANNELS]),
            ("survey", "Survey", [(str(s.id), s.name) for s in surveys]),
            ("theme", "Friction point", [(str(p.id), p.label) for p in points]),
            *triage_filter_choices(project.id),
        ],
        triage=triage_of(project.id, page.items),
        here=page_path(),
        sees_emails=team().sees_emails,
    )
