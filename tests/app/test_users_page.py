"""The users-and-roles page through the test client: invitations by email (to the real SMTP
sink), role changes, removal, the last owner, and switching between projects."""

from __future__ import annotations

from service.db import db
from surveys.accounts.roles import Role
from surveys.models import Membership
from tests.app.conftest import PASSWORD, TeamClient, add_user, mailed_link
from tests.conftest import make_project

NEW = {"password": "a long new passphrase", "confirm": "a long new passphrase"}


def roles(app, project_id: int) -> dict[int, str]:
    with app.app_context():
        rows = db().query(Membership).filter_by(project_id=project_id)
        return {m.user_id: m.role for m in rows}


def test_an_invitation_arrives_and_its_link_works_once(mail_app, smtp_sink):
    keys = make_project(mail_app, "Acme <NPS>")
    owner = add_user(mail_app, keys.id, "owner@acme.test", Role.OWNER)
    team = TeamClient(mail_app.test_client())
    team.sign_in(owner.email)
    r = team.post("/app/users/invite", {"email": "New.Person@acme.test", "role": "editor"})
    assert r.status_code == 302
    page = team.get("/app/users").get_data(as_text=True)
    assert "Invitation sent to new.person@acme.test." in page
    assert "Acme &lt;NPS&gt;" in page and "Acme <NPS>" not in page  # escaped
    assert "invited" in page

    (received,) = smtp_sink.received
    assert received.rcpt_tos == ["new.person@acme.test"]
    assert received.message["Subject"] == "You are invited to Acme <NPS> on Flywheel"
    body = received.message.get_body(("plain",)).get_content()
    assert "owner@acme.test invited you to Acme <NPS>" in body and "within 7 days" in body
    path = mailed_link(smtp_sink, "new.person@acme.test")

    invited = TeamClient(mail_app.test_client())
    assert "new.person@acme.test" in invited.get(path).get_data(as_text=True)
    assert invited.post(path, NEW).status_code == 302
    assert "Acme &lt;NPS&gt;" in invited.get("/app/").get_data(as_text=True)
    assert invited.get(path).status_code == 410
    assert roles(mail_app, keys.id)[2] == "editor"


def test_resending_an_invitation_replaces_the_link(mail_app, smtp_sink):
    keys = make_project(mail_app)
    owner = add_user(mail_app, keys.id, "owner@acme.test", Role.OWNER)
    pending = add_user(mail_app, keys.id, "slow@acme.test", Role.VIEWER, password=None)
    team = TeamClient(mail_app.test_client())
    team.sign_in(owner.email)
    assert team.post(f"/app/users/{pending.id}/resend").status_code == 302
    first = mailed_link(smtp_sink, pending.email)
    assert team.post(f"/app/users/{pending.id}/resend").status_code == 302
    second = mailed_link(smtp_sink, pending.email)
    assert first != second
    assert team.get(first).status_code == 410 and team.get(second).status_code == 200


def test_inviting_someone_who_has_an_account_tells_them(mail_app, smtp_sink):
    first, second = make_project(mail_app, "First"), make_project(mail_app, "Second")
    owner = add_user(mail_app, first.id, "owner@acme.test", Role.OWNER)
    add_user(mail_app, second.id, "owner@acme.test", Role.OWNER)
    other = add_user(mail_app, second.id, "known@acme.test", Role.VIEWER)
    team = TeamClient(mail_app.test_client())
    team.sign_in(owner.email)
    team.post("/app/switch-project", {"project": str(first.id)})
    r = team.post("/app/users/invite", {"email": other.email, "role": "viewer"})
    assert r.status_code == 302
    (received,) = smtp_sink.received
    assert received.message["Subject"] == "You now have access to First on Flywheel"
    assert "http://flywheel.test/app/sign-in" in received.message.get_body(("plain",)).get_content()
    r = team.post("/app/users/invite", {"email": other.email, "role": "owner"})
    assert r.status_code == 422 and "Already a member of this project." in r.get_data(as_text=True)


def test_an_invitation_that_cannot_be_sent_says_so(mail_app, smtp_sink):
    keys = make_project(mail_app)
    owner = add_user(mail_app, keys.id, "owner@acme.test", Role.OWNER)
    smtp_sink.refuse["bounce@acme.test"] = "550 no such user"
    team = TeamClient(mail_app.test_client())
    team.sign_in(owner.email)
    team.post("/app/users/invite", {"email": "bounce@acme.test", "role": "viewer"})
    page = team.get("/app/users").get_data(as_text=True)
    assert "the email could not be sent" in page and "bounce@acme.test" in page


def test_invite_checks_its_fields(team, owner):
    team.sign_in(owner.email)
    r = team.post("/app/users/invite", {"email": "not-an-address", "role": "viewer"})
    assert r.status_code == 422 and "Not an email address." in r.get_data(as_text=True)
    r = team.post("/app/users/invite", {"email": "x@acme.test", "role": "boss"})
    assert r.status_code == 422 and "Not a valid choice" in r.get_data(as_text=True)


def test_roles_change_and_the_last_owner_stays(app, team, project, owner, editor):
    team.sign_in(owner.email)
    assert team.post(f"/app/users/{editor.id}/role", {"role": "viewer"}).status_code == 302
    assert roles(app, project.id)[editor.id] == "viewer"
    r = team.post(f"/app/users/{owner.id}/role", {"role": "editor"})
    assert r.status_code == 409 and "at least one owner" in r.get_data(as_text=True)
    r = team.post(f"/app/users/{owner.id}/remove")
    assert r.status_code == 409
    assert roles(app, project.id)[owner.id] == "owner"

    # With a second owner, the first may step down.
    assert team.post(f"/app/users/{editor.id}/role", {"role": "owner"}).status_code == 302
    assert team.post(f"/app/users/{owner.id}/role", {"role": "viewer"}).status_code == 302
    assert team.get("/app/users").status_code == 403  # a viewer now


def test_removing_a_member_ends_their_access(app, project, owner, editor):
    team, removed = TeamClient(app.test_client()), TeamClient(app.test_client())
    team.sign_in(owner.email)
    removed.sign_in(editor.email)
    assert removed.get("/app/").status_code == 200
    assert team.post(f"/app/users/{editor.id}/remove").status_code == 302
    assert editor.id not in roles(app, project.id)
    assert removed.get("/app/").status_code == 403
    # Another project's member is not this project's to change.
    other = make_project(app, "Other")
    stranger = add_user(app, other.id, "stranger@acme.test", Role.OWNER)
    assert team.post(f"/app/users/{stranger.id}/remove").status_code == 404
    assert team.post(f"/app/users/{stranger.id}/role", {"role": "viewer"}).status_code == 404
    assert roles(app, other.id) == {stranger.id: "owner"}


def test_switching_projects(app, team, project, owner, second_project):
    add_user(app, second_project.id, owner.email, Role.VIEWER, password=None)
    third = make_project(app, "Not mine")
    team.sign_in(owner.email)
    page = team.get("/app/").get_data(as_text=True)
    assert '<label for="switch-project">Project</label>' in page
    assert "Acme" in page and "Beta product" in page and "Not mine" not in page
    r = team.post("/app/switch-project", {"project": str(second_project.id)})
    assert r.status_code == 302
    page = team.get("/app/").get_data(as_text=True)
    assert "Now showing Beta product." in page
    assert '<p class="lede">Beta product</p>' in page
    assert team.get("/app/users").status_code == 403  # a viewer there
    assert team.post("/app/switch-project", {"project": str(third.id)}).status_code == 404
    assert '<p class="lede">Beta product</p>' in team.get("/app/").get_data(as_text=True)


def test_a_project_hides_emails_from_viewers_when_it_says_so(app, api, project, viewer):
    from service.app.shell import TeamContext
    from surveys.accounts.users import projects_of
    from surveys.models import User

    assert api.get("/api/v1/project").json["hide_emails_from_viewers"] is False
    r = api.patch("/api/v1/project", json={"hide_emails_from_viewers": True})
    assert r.status_code == 200 and r.json["hide_emails_from_viewers"] is True
    with app.app_context():
        user = db().get(User, viewer.id)
        (mine,) = projects_of(db(), viewer.id)
        assert not TeamContext(user, [mine], mine).sees_emails
        assert TeamContext(user, [mine], type(mine)(mine.project, Role.EDITOR)).sees_emails
    team = TeamClient(app.test_client())
    team.sign_in(viewer.email, PASSWORD)
    assert team.get("/app/").status_code == 200
