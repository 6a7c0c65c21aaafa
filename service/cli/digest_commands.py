"""`flask --app wsgi digest send`: one project's digest of the last complete period, now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from service.app.mailer import SendError
from surveys.errors import DomainError
from surveys.loop.digest_subscriptions import CADENCES


@click.group("digest")
def digest() -> None:
    """The periodic NPS digest email."""


@digest.command("send")
@click.option("--project", "project_id", type=int, required=True, help="Project id.")
@click.option("--to", "recipient", required=True, help="Email address to send it to.")
@click.option(
    "--cadence",
    type=click.Choice(sorted(CADENCES)),
    default="weekly",
    show_default=True,
    help="Summarise the last complete week or month.",
)
@with_appcontext
def send(project_id: int, recipient: str, cadence: str) -> None:
    """Send the digest of the last complete week (or month) to one address at once."""
    from service.worker.digests import send_now

    try:
        period = send_now(project_id, recipient.strip(), cadence)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    except SendError as exc:
        raise click.ClickException(f"not sent: {exc}") from exc
    click.echo(f"digest for {period.label} sent to {recipient.strip()}")
