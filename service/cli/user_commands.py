"""`flask --app wsgi users create|reset-two-factor`: team-app users, for operators and tests."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from service.app.mailer import public_link
from service.db import db
from surveys.accounts import links
from surveys.accounts.links import Purpose
from surveys.accounts.roles import ROLES, Role
from surveys.accounts.users import (
    Added,
    add_member,
    disable_second_factor,
    find_user,
    set_password,
)
from surveys.clock import utcnow
from surveys.errors import DomainError
from surveys.models import User


def sign_in_url(user: User) -> str:
    """A one-time link (a week) that asks for a password and signs in: printed, not mailed."""
    token = links.issue_link(db(), user, Purpose.SIGN_IN, utcnow())
    return public_link("app.set_password", token=token)


def create_user(project_id: int, email: str, role: Role, password: str | None) -> dict:
    """Add the member (and the user when new), set the password if given, and commit."""
    added: Added = add_member(db(), project_id, email, role)
    if password is not None:
        set_password(db(), added.user, password)
    url = sign_in_url(added.user)
    db().commit()
    return {
        "id": added.user.id,
        "email": added.user.email,
        "role": role.value,
        "project_id": project_id,
        "sign_in_url": url,
    }


@click.group("users")
def users() -> None:
    """Team-app users and their roles per project."""


@users.command("create")
@click.argument("email")
@click.option("--project", "project_id", type=int, required=True, help="Project id.")
@click.option("--role", type=click.Choice([role.value for role in ROLES]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@with_appcontext
def create(email: str, project_id: int, role: str, password_stdin: bool, as_json: bool) -> None:
    """Give EMAIL a role in a project (creating the user) and print a one-time sign-in link."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        data = create_user(project_id, email, Role(role), password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"User {data['id']} ({data['email']}) is {role} of project {project_id}.")
    click.echo(f"One-time sign-in link (a week): {data['sign_in_url']}")


@users.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_two_factor(email: str) -> None:
    """Turn off two-factor sign-in for a user who lost their authenticator."""
    user = find_user(db(), email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    disable_second_factor(db(), user)
    db().commit()
    click.echo(f"Two-factor sign-in is off for {user.email}; they sign in with their password.")
