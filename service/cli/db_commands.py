"""`flask --app wsgi db upgrade|downgrade|revision`: schema migrations."""

import click
from flask import current_app
from flask.cli import with_appcontext

from service import migrate
from service.db import engine


@click.group("db")
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def upgrade(revision: str) -> None:
    """Create or migrate the schema (SQLite or PostgreSQL)."""
    # The app's key lets a revision seal the secrets already stored (two-factor seeds).
    migrate.upgrade(engine(), revision, current_app.config["SECRET_KEY"])
    click.echo(f"database at revision {revision}")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Step the schema back to REVISION."""
    migrate.downgrade(engine(), revision, current_app.config["SECRET_KEY"])


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    migrate.revision(engine(), message)
