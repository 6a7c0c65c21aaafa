"""`flask --app wsgi themes run`: fit one theme run in the foreground with a progress bar."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from service.db import db
from surveys.clock import utcnow
from surveys.errors import DomainError
from surveys.models import Project, ThemeRun
from surveys.themes import runs


@click.group("themes")
def themes() -> None:
    """Friction points: cluster comments into ranked themes."""


@themes.command("run")
@click.option("--project", "project_id", type=int, required=True, help="Project id.")
@click.option("--survey-id", type=int, default=None, help="Only this survey's comments.")
@click.option("--since", type=click.DateTime(), default=None, help="Created at or after (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="Created before (UTC).")
@click.option(
    "--segments",
    default=",".join(runs.DEFAULT_SEGMENTS),
    show_default=True,
    help="Comma-separated: detractor, passive, promoter, feedback.",
)
@click.option("--n-themes", type=int, default=None, help="Fixed number of themes.")
@click.option("--revenue-property", default=runs.DEFAULT_REVENUE_PROPERTY, show_default=True)
@with_appcontext
def run(
    project_id: int,
    survey_id: int | None,
    since: datetime | None,
    until: datetime | None,
    segments: str,
    n_themes: int | None,
    revenue_property: str,
) -> None:
    """Cluster a project's comments now and print the ranked friction points."""
    # Loaded here, not at import, so that the web app never loads scikit-learn.
    from service.worker import theme_jobs

    session = db()
    if session.get(Project, project_id) is None:
        raise click.ClickException(f"project {project_id} not found")
    try:
        params = runs.make_params(
            survey_id=survey_id,
            since=since,
            until=until,
            segments=[s.strip() for s in segments.split(",") if s.strip()],
            n_themes=n_themes,
            revenue_property=revenue_property,
        )
        queued = runs.queue_run(session, project_id, params, now=utcnow())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    # Claimed in the same transaction as it is queued, so no worker can take it meanwhile.
    claimed = runs.claim_run(
        session, f"cli:{theme_jobs.worker_name()}", now=utcnow(), run_id=queued.id
    )
    session.commit()
    if claimed is None:  # cannot happen: queued and claimed in one transaction
        raise click.ClickException(f"theme run {queued.id} was taken by another process")
    with click.progressbar(length=100, label=f"theme run {claimed.id}", show_pos=False) as bar:
        state = {"done": 0}

        def progress(fraction: float, stage: str) -> None:
            target = int(round(100 * fraction))
            if target > state["done"]:
                bar.label = f"theme run {claimed.id}: {stage}"
                bar.update(target - state["done"])
                state["done"] = target

        result = theme_jobs.execute(claimed.id, progress)
    if result.status == "failed":
        raise click.ClickException(f"theme run {result.id} failed: {result.message}")
    _print_summary(result)


def _print_summary(result: ThemeRun) -> None:
    from surveys.themes.reading import list_points

    counts = result.counts or {}
    click.echo(
        f"theme run {result.id} done in {result.duration_seconds:.1f} s: "
        f"{counts.get('comments', 0)} comments, {counts.get('themes', 0)} themes, "
        f"{100 * (result.unassigned_share or 0):.1f}% unassigned"
    )
    if result.message:
        click.echo(result.message)
    _, points = list_points(db(), result.project_id, result.id)
    for p in points:
        revenue = f"{p.revenue_at_risk:.2f}" if p.revenue_at_risk is not None else "-"
        click.echo(
            f"{p.rank:>3}. {p.label}  size {p.size}  NPS impact {p.nps_impact:.2f}  "
            f"revenue at risk {revenue}  trend {p.trend_direction or '-'}  (theme {p.id})"
        )
