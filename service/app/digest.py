"""The digest page: a member opts in to the project's NPS digest email, weekly or monthly, or
out again. Every member may choose for themselves, viewers too."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import SelectField
from wtforms.validators import InputRequired

from service.app.access import requires
from service.app.forms import Form
from service.app.shell import bp, team
from service.db import db
from surveys.accounts.roles import Role
from surveys.loop.digest_subscriptions import get_subscription, set_cadence

CHOICES = [("off", "Off"), ("weekly", "Weekly"), ("monthly", "Monthly")]


class DigestForm(Form):
    cadence = SelectField(
        "Digest email",
        choices=CHOICES,
        validators=[InputRequired()],
        description="Weekly comes on Monday about the week before, monthly on the 1st about "
        "the month before. Paused when no new feedback came in.",
    )


def _current() -> str:
    subscription = get_subscription(db(), team().user.id, team().project.id)
    if subscription is None or not subscription.active:
        return "off"
    return subscription.cadence


@bp.get("/digest", endpoint="digest")
@requires(Role.VIEWER, write=Role.VIEWER)
def digest_page():  # noqa: ANN201
    form = DigestForm(formdata=None, cadence=_current())
    return render_template("app/digest.html", form=form, current=_current())


@bp.post("/digest")
@requires(Role.VIEWER, write=Role.VIEWER)
def digest_choose():  # noqa: ANN201
    form = DigestForm()
    if not form.validate():
        return render_template("app/digest.html", form=form, current=_current()), 422
    cadence = None if form.cadence.data == "off" else form.cadence.data
    set_cadence(db(), team().user.id, team().project.id, cadence)
    db().commit()
    flash(
        f"You will get the {cadence} digest of {team().project.name}."
        if cadence
        else f"No more digests of {team().project.name}.",
        "success",
    )
    return redirect(url_for("app.digest"))
