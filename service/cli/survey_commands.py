"""`flask --app wsgi surveys worker`: the background worker."""

import click
from flask import current_app

from service.cli import email_commands
from service.worker import loop


@click.group("surveys")
def surveys() -> None:
    """Survey background work."""


email_commands.register(surveys)


@surveys.command("worker")
@click.option("--once", is_flag=True, help="Run a single pass, then exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
def run_worker(once: bool, interval: float) -> None:
    """Run every background pass in a loop (every minute by default)."""
    app = current_app._get_current_object()
    if once:
        click.echo(str(loop.run_once(app)))
        return
    loop.run_forever(app, interval)
