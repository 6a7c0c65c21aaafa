"""`flask --app wsgi projects create|rotate-keys|ensure-first|list`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from service.cli.user_commands import create_user
from service.db import db
from surveys.accounts.roles import Role
from surveys.accounts.users import user_count
from surveys.keys import identity_secret
from surveys.models import Project
from surveys.projects import NewProject, create_project, project_count, rotate_keys


def _keys_json(new: NewProject) -> dict:
    settings = current_app.config["FLYWHEEL"]
    return {
        "id": new.project.id,
        "name": new.project.name,
        "secret_key": new.keys.secret_key,
        "publishable_key": new.keys.publishable_key,
        "identity_secret": identity_secret(settings.secret_key, new.keys.identity_salt),
    }


def _print(new: NewProject, as_json: bool, heading: str) -> None:
    data = _keys_json(new)
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(heading)
    for key, value in data.items():
        click.echo(f"  {key:16} {value}")
    click.echo("Keys are shown once and stored hashed; rotate-keys issues new ones.")


@click.group("projects")
def projects() -> None:
    """Projects (tenants) and their keys."""


@projects.command("create")
@click.argument("name")
@click.option("--time-zone", default="UTC", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
@with_appcontext
def create(name: str, time_zone: str, as_json: bool) -> None:
    """Create a project and print its keys (shown once)."""
    new = create_project(db(), name, time_zone)
    db().commit()
    _print(new, as_json, f"Project {new.project.id} created:")


@projects.command("rotate-keys")
@click.argument("project_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate(project_id: int, as_json: bool) -> None:
    """Replace a project's keys; the old ones stop working at once."""
    new = rotate_keys(db(), project_id)
    db().commit()
    _print(new, as_json, f"Project {project_id} has new keys:")


@projects.command("ensure-first")
@click.option("--name", default="My product", show_default=True)
@click.option(
    "--owner-email",
    envvar="FIRST_OWNER_EMAIL",
    default="owner@localhost",
    show_default=True,
    help="The first owner's email (env FIRST_OWNER_EMAIL).",
)
@with_appcontext
def ensure_first(name: str, owner_email: str) -> None:
    """Create a first project and its owner when there are none (what `make run` does)."""
    if project_count(db()):
        click.echo(
            "A project exists already; `flask --app wsgi projects rotate-keys ID` "
            "prints new keys if you lost them."
        )
    else:
        new = create_project(db(), name)
        db().commit()
        _print(new, False, f"First project {new.project.id} created:")
    if user_count(db()):
        return
    first = db().scalar(select(Project.id).order_by(Project.id).limit(1))
    owner = create_user(first, owner_email, Role.OWNER, None)
    click.echo(f"Team app: {owner['email']} is owner of project {first}. Sign in once with")
    click.echo(f"  {owner['sign_in_url']}")
    click.echo("(a one-time link, good for a week: it asks for a password, then signs in).")


@projects.command("list")
@with_appcontext
def list_projects() -> None:
    """List projects (ids, names, key prefixes)."""
    for p in db().scalars(select(Project).order_by(Project.id)):
        click.echo(f"{p.id}\t{p.name}\t{p.key_prefix}…\t{p.time_zone}")
