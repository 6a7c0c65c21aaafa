"""`flask --app wsgi surveys schedule` and `surveys dispatch [--once]`: the email outbox."""

from __future__ import annotations

import time

import click
from flask import current_app

from service.db import db
from service.worker.dispatch import dispatch
from surveys.clock import utcnow
from surveys.email import outbox


@click.command("schedule")
@click.option("--project", "project_id", type=int, default=None, help="Only this project.")
def schedule_command(project_id: int | None) -> None:
    """Create the invitations that are due now (idempotent: safe to run from several hosts)."""
    result = outbox.schedule_due(db(), utcnow(), project_id=project_id)
    db().commit()
    click.echo(
        f"created {result.created} invitations, {result.reminders} reminders; "
        f"already pending {result.pending}; not invited: {dict(sorted(result.reasons.items()))}"
    )


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
def dispatch_command(once: bool, interval: float) -> None:
    """Send due invitations over SMTP (or to var/outbox/ without SMTP_URL)."""
    settings = current_app.config["FLYWHEEL"]
    while True:
        started = time.monotonic()
        result = dispatch(db(), settings)
        click.echo(
            f"sent {result.sent}, retry {result.retried}, failed {result.failed}, "
            f"uncertain {result.uncertain + result.expired}, cancelled {result.cancelled}"
        )
        if once:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def register(group: click.Group) -> None:
    group.add_command(schedule_command)
    group.add_command(dispatch_command)
