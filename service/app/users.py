"""The users-and-roles page, for owners: invite by email with a role, change roles, remove."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for

from service.app.access import requires
from service.app.forms import InviteForm, RoleForm
from service.app.mailer import MailNotSent, public_link, send_account_mail
from service.app.shell import bp, team
from service.db import db
from surveys.accounts import links
from surveys.accounts.links import Purpose
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member, change_role, members, remove_member
from surveys.clock import utcnow
from surveys.errors import Conflict, Invalid, NotFound
from surveys.models import User


def _users_page(status: int = 200, invite_form: InviteForm | None = None):  # noqa: ANN202
    project = team().project
    return render_template(
        "app/users.html",
        members=members(db(), project.id),
        invite_form=invite_form or InviteForm(formdata=None),
        role_form=RoleForm(formdata=None),
        me=team().user.id,
    ), status


@bp.get("/users")
@requires(Role.OWNER)
def users():  # noqa: ANN201
    return _users_page()


def _send_invitation(user: User) -> None:
    """An invitation with a one-time link for a new user; a notice for one with a password."""
    project = team().project
    inviter = team().user.email
    if user.password_hash is None:
        token = links.issue_link(db(), user, Purpose.INVITE, utcnow())
        db().commit()
        send_account_mail(
            user.email,
            f"You are invited to {project.name} on Flywheel",
            "invite.txt",
            project=project.name,
            inviter=inviter,
            link=public_link("app.set_password", token=token),
            days=links.LIFETIME[Purpose.INVITE].days,
        )
    else:
        send_account_mail(
            user.email,
            f"You now have access to {project.name} on Flywheel",
            "added.txt",
            project=project.name,
            inviter=inviter,
            link=public_link("app.sign_in"),
        )


def _mail_failed(email: str) -> None:
    flash(
        f"{email} is a member, but the email could not be sent. "
        "Use “Resend invitation” once mail works.",
        "error",
    )


@bp.post("/users/invite")
@requires(Role.OWNER)
def invite():  # noqa: ANN201
    form = InviteForm()
    if not form.validate():
        return _users_page(422, form)
    try:
        added = add_member(db(), team().project.id, form.email.data, Role(form.role.data))
    except (Invalid, Conflict) as exc:
        form.show_problems(exc)
        return _users_page(422, form)
    db().commit()
    try:
        _send_invitation(added.user)
    except MailNotSent:
        _mail_failed(added.user.email)
    else:
        flash(f"Invitation sent to {added.user.email}.", "success")
    return redirect(url_for("app.users"))


def _member_user(user_id: int) -> User:
    for member in members(db(), team().project.id):
        if member.user.id == user_id:
            return member.user
    raise NotFound("no such member in this project")


@bp.post("/users/<int:user_id>/resend")
@requires(Role.OWNER)
def resend(user_id: int):  # noqa: ANN201
    user = _member_user(user_id)
    try:
        _send_invitation(user)
    except MailNotSent:
        _mail_failed(user.email)
    else:
        flash(f"Invitation sent to {user.email} again.", "success")
    return redirect(url_for("app.users"))


def _change_member(change: Callable[[], object], done: str):  # noqa: ANN202
    """Run a change to the membership; a refusal (the last owner) shows on the page."""
    try:
        change()
    except Conflict as exc:
        flash(exc.message, "error")
        return _users_page(409)
    db().commit()
    flash(done, "success")
    return redirect(url_for("app.users"))


@bp.post("/users/<int:user_id>/role")
@requires(Role.OWNER)
def set_role(user_id: int):  # noqa: ANN201
    form = RoleForm()
    if not form.validate():
        flash("Choose one of the roles.", "error")
        return redirect(url_for("app.users"))
    user, role = _member_user(user_id), Role(form.role.data)
    project_id = team().project.id
    return _change_member(
        lambda: change_role(db(), project_id, user_id, role), f"{user.email} is now {role}."
    )


@bp.post("/users/<int:user_id>/remove")
@requires(Role.OWNER)
def remove(user_id: int):  # noqa: ANN201
    user, project = _member_user(user_id), team().project
    return _change_member(
        lambda: remove_member(db(), project.id, user_id),
        f"{user.email} no longer has access to {project.name}.",
    )
