"""Triage in real headless Chromium: the feed's triage panel and the movement page's recovery
panel pass axe-core with the CSP blocking nothing, an editor follows up by keyboard alone, and
a phone's width needs no sideways scroll. With SCREENSHOTS=<dir> set, the pages are saved there
as images."""

from __future__ import annotations

import os
from pathlib import Path

from surveys.accounts.roles import Role
from tests.app.conftest import add_user
from tests.app.data import make_answers
from tests.app.test_browser import site, visit  # noqa: F401 (the served app)
from tests.conftest import Api, make_project


def _setup(mail_app):
    keys = make_project(mail_app, "Acme")
    api = Api(mail_app.test_client(), keys)
    data = make_answers(api)
    editor = add_user(mail_app, keys.id, "editor@acme.test", Role.EDITOR)
    add_user(mail_app, keys.id, "cx@acme.test", Role.EDITOR, None)
    items = api.get("/api/v1/responses?limit=100").json["items"]
    by_person = {}
    for item in items:
        by_person.setdefault(item["person_id"], []).append(item)
    ann_q2 = by_person[data.people["ann"]][1]
    cat_q1 = by_person[data.people["cat"]][0]
    billing = api.post("/api/v1/tags", json={"name": "support"}).json["id"]
    api.put(f"/api/v1/responses/{ann_q2['id']}/tags/{billing}")
    api.patch(
        f"/api/v1/responses/{ann_q2['id']}/follow-up",
        json={"status": "contacted", "owner_email": "cx@acme.test"},
    )
    api.post(
        f"/api/v1/responses/{ann_q2['id']}/notes",
        json={
            "text": "Called Ann: the ticket sat in the wrong queue.",
            "author_email": "cx@acme.test",
        },
    )
    api.patch(
        f"/api/v1/responses/{cat_q1['id']}/follow-up",
        json={"status": "resolved", "reason": "Moved them to the faster cluster"},
    )
    return data, editor, ann_q2


def _shoot(tab, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        tab.page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_triage_panels_pass_axe_and_work_by_keyboard(mail_app, site, browser):  # noqa: F811
    data, editor, ann_q2 = _setup(mail_app)
    tab = visit(browser, site, viewport={"width": 1280, "height": 900})
    tab.go("/app/sign-in")
    tab.sign_in(editor.email)
    tab.page.wait_for_url(f"{site}/app/")
    tab.go("/app/responses")
    item = tab.page.locator(f"#r-{ann_q2['id']}")
    # Open the panel from the keyboard: focus its summary, press Enter.
    item.locator("summary").focus()
    tab.page.keyboard.press("Enter")
    assert item.locator("details").evaluate("d => d.open")
    tab.audit()
    _shoot(tab, "responses-triage-desktop.png")
    # Resolve by keyboard: choose the status, type the reason, submit with Enter.
    item.get_by_label("Status").focus()
    tab.page.keyboard.press("End")
    item.get_by_label("Reason").focus()
    tab.page.keyboard.type("Queue fixed; Ann confirmed")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"{site}/app/responses#r-{ann_q2['id']}")
    assert "resolved" in tab.page.locator(f"#r-{ann_q2['id']} .triage-summary").inner_text()
    tab.go(f"/app/people/{data.people['ann']}")
    tab.page.locator(f"#r-{ann_q2['id']} summary").click()
    tab.audit()
    tab.go("/app/movement?from=2026-Q1&to=2026-Q2")
    tab.audit()
    _shoot(tab, "movement-recovery-desktop.png")


def test_triage_panels_fit_a_phone(mail_app, site, browser):  # noqa: F811
    data, editor, ann_q2 = _setup(mail_app)
    tab = visit(browser, site, viewport={"width": 375, "height": 740})
    tab.go("/app/sign-in")
    tab.sign_in(editor.email)
    tab.page.wait_for_url(f"{site}/app/")
    for path in ("/app/responses", "/app/movement?from=2026-Q1&to=2026-Q2"):
        tab.go(path)
        if path == "/app/responses":
            tab.page.locator(f"#r-{ann_q2['id']} summary").click()
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        tab.audit()
        name = "responses-triage" if "responses" in path else "movement-recovery"
        _shoot(tab, f"{name}-phone.png")
    tab.go(f"/app/people/{data.people['ann']}")
    tab.page.locator(f"#r-{ann_q2['id']} summary").click()
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    _shoot(tab, "person-triage-phone.png")


def test_the_friction_page_edits_pass_axe(mail_app, site, browser):  # noqa: F811
    from service.worker.loop import run_once
    from tests.themes.corpus import UNTIL, load

    keys = make_project(mail_app, "Acme")
    api = Api(mail_app.test_client(), keys)
    load(api, mail_app)
    api.post("/api/v1/themes/runs", json={"until": UNTIL, "n_themes": 5})
    assert run_once(mail_app)["theme_runs"] == 1
    editor = add_user(mail_app, keys.id, "editor@acme.test", Role.EDITOR)
    for width, name in ((1280, "desktop"), (375, "phone")):
        tab = visit(browser, site, viewport={"width": width, "height": 900})
        tab.go("/app/sign-in")
        tab.sign_in(editor.email)
        tab.page.wait_for_url(f"{site}/app/")
        tab.go("/app/friction-points")
        tab.page.locator(".point summary").first.click()
        tab.audit()
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        _shoot(tab, f"friction-edit-{name}.png")
    # Rename by keyboard: the name field, a new name, Enter.
    field = tab.page.locator(".point input[name=label]").first
    field.fill("Sign-in trouble")
    field.press("Enter")
    tab.page.wait_for_url(f"{site}/app/friction-points")
    assert tab.page.get_by_role("heading", name="Sign-in trouble").count() == 1
