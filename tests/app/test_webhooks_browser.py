"""The webhooks page in real headless Chromium: axe-core finds nothing on the list, the form
with a refused private URL, the secret shown once, the confirm steps and the delivery log; the
Content-Security-Policy blocks nothing; the form works from the keyboard; a phone's width needs
no sideways scroll; and the secret the page shows is the one the API's deliveries are signed
with (the API lists what the form made)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from service.db import db
from surveys.accounts.roles import Role
from surveys.clock import utcnow
from surveys.models import Delivery, Webhook
from tests.app.conftest import add_user
from tests.app.test_browser import signed_in, site  # noqa: F401 (the served app)
from tests.conftest import Api, make_project

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 740}
PUBLIC_URL = "https://93.184.215.14/hooks/flywheel"


def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(tab) -> None:
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = tab.page.evaluate(
        "[...document.querySelectorAll('body *')].filter("
        "e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
        ".slice(0, 8)"
    )
    assert overflow <= 0, (tab.page.url, overflow, wide)


def _history(app, api) -> int:
    """A second endpoint the worker gave up on, with a few deliveries in its log."""
    made = api.post(
        "/api/v1/webhooks",
        json={
            "url": "https://93.184.215.14/crm/nps-events",
            "events": ["person.segment_changed"],
            "description": "CRM sync",
            "segment": "detractor",
        },
    ).json
    for _ in range(3):
        api.post(f"/api/v1/webhooks/{made['id']}/test")
    with app.app_context():
        hook = db().get(Webhook, made["id"])
        hook.active, hook.disabled_at = False, utcnow()
        hook.disabled_reason = "Failed for 24 hours (last: HTTP 503)."
        rows = db().query(Delivery).filter_by(webhook_id=made["id"]).order_by(Delivery.id).all()
        outcomes = (("succeeded", 1, 200, 87), ("failed", 8, 503, 1204), ("failed", 1, 410, 35))
        for row, (status, attempts, code, latency) in zip(rows, outcomes, strict=True):
            row.status, row.attempts, row.response_code, row.latency_ms = (
                status,
                attempts,
                code,
                latency,
            )
            row.last_attempt_at = utcnow()
        db().commit()
    return made["id"]


def test_webhooks_page_in_chromium(mail_app, site, browser):  # noqa: F811
    keys = make_project(mail_app, "Acme with a rather long name for a phone")
    api = Api(mail_app.test_client(), keys)
    api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    owner = add_user(mail_app, keys.id, "someone.with.a.long.address@acme.test", Role.OWNER)
    tab = signed_in(browser, site, owner.email)
    menu = tab.page.get_by_role("navigation", name="Main").get_by_role("link")
    assert menu.all_inner_texts()[-3:] == ["Webhooks", "Users", "Settings"]
    tab.page.get_by_role("link", name="Webhooks").click()
    tab.page.wait_for_url(f"{site}/app/webhooks")
    tab.audit()

    # From the keyboard: type the URL, Tab to the first event, Space ticks it.
    url = tab.page.get_by_label("Endpoint URL")
    url.focus()
    tab.page.keyboard.type("http://127.0.0.1:9000/hook")
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.press("Space")
    first_event = tab.page.get_by_label("An answer arrives (response.created)")
    expect(first_event).to_be_checked()
    tab.page.get_by_role("button", name="Add webhook").click()
    expect(
        tab.page.get_by_text("The URL points to a private, loopback or link-local address.")
    ).to_be_visible()
    tab.audit()
    assert api.get("/api/v1/webhooks").json["items"] == []

    tab.page.get_by_label("Endpoint URL").fill(PUBLIC_URL)
    tab.page.get_by_label("Description").fill("Data warehouse")
    tab.page.get_by_role("button", name="Add webhook").click()
    expect(tab.page.get_by_role("heading", name="Webhook added")).to_be_visible()
    tab.audit()
    _shot(tab, "webhook-secret-desktop")
    secret = tab.page.locator('[data-key="webhook_secret"]').inner_text()
    assert secret.startswith("whsec_")
    [made] = api.get("/api/v1/webhooks").json["items"]
    assert (made["url"], made["events"]) == (PUBLIC_URL, ["response.created"])
    tab.page.get_by_role("link", name="I have copied it").click()
    tab.page.wait_for_url(f"{site}/app/webhooks")
    assert secret not in tab.page.content()

    crm = _history(mail_app, api)
    tab.go("/app/webhooks")
    expect(tab.page.get_by_text("Failed for 24 hours (last: HTTP 503).")).to_be_visible()
    tab.audit()
    _shot(tab, "webhooks-desktop")

    # The delivery log: a test event, then a redelivery.
    tab.page.get_by_role("link", name=f"Deliveries to {PUBLIC_URL}").click()
    tab.page.wait_for_url(f"{site}/app/webhooks/{made['id']}")
    expect(tab.page.get_by_text("No deliveries yet.")).to_be_visible()
    tab.audit()
    tab.page.get_by_role("button", name="Send a test event").click()
    expect(tab.page.get_by_text("A test event (webhook.test) is queued")).to_be_visible()
    tab.audit()
    [queued] = api.get(f"/api/v1/webhooks/{made['id']}/deliveries").json["items"]
    assert queued["event_type"] == "webhook.test"

    tab.go(f"/app/webhooks/{crm}")
    tab.audit()
    _shot(tab, "webhook-deliveries-desktop")
    failed = api.get(f"/api/v1/webhooks/{crm}/deliveries?status=failed").json["items"][0]
    tab.page.get_by_role("button", name=f"Redeliver delivery {failed['id']}").click()
    expect(
        tab.page.get_by_text(f"Delivery {failed['id']} (webhook.test) is queued")
    ).to_be_visible()
    again = api.get(f"/api/v1/webhooks/{crm}/deliveries?status=pending").json["items"]
    assert [d["id"] for d in again] == [failed["id"]]

    # Edit, rotate and delete, each a page axe-core checks.
    tab.go(f"/app/webhooks/{made['id']}/edit")
    expect(tab.page.get_by_label("Description")).to_have_value("Data warehouse")
    tab.audit()
    tab.page.get_by_label("Segment", exact=True).select_option("detractor")
    tab.page.get_by_role("button", name="Save changes").click()
    expect(tab.page.get_by_text(f"Webhook to {PUBLIC_URL} saved.")).to_be_visible()
    assert api.get(f"/api/v1/webhooks/{made['id']}").json["segment"] == "detractor"

    tab.page.get_by_role("link", name=f"Rotate secret of {PUBLIC_URL}").click()
    tab.audit()
    tab.page.get_by_role("button", name="Yes, replace it now").click()
    expect(tab.page.get_by_role("heading", name="The new signing secret")).to_be_visible()
    tab.audit()
    assert tab.page.locator('[data-key="webhook_secret"]').inner_text() not in ("", secret)

    tab.go("/app/webhooks")
    tab.page.get_by_role("link", name=f"Delete {PUBLIC_URL}").click()
    tab.audit()
    tab.page.get_by_role("button", name="Yes, delete it").click()
    expect(tab.page.get_by_text(f"Webhook to {PUBLIC_URL} deleted")).to_be_visible()
    assert [h["id"] for h in api.get("/api/v1/webhooks").json["items"]] == [crm]

    phone = signed_in(browser, site, owner.email)
    phone.page.set_viewport_size(PHONE)
    phone.go("/app/webhooks")
    _no_sideways_scroll(phone)
    phone.audit()
    _shot(phone, "webhooks-phone")
    phone.go(f"/app/webhooks/{crm}")
    _no_sideways_scroll(phone)
    phone.audit()

    viewer = add_user(mail_app, keys.id, "viewer@acme.test", Role.VIEWER)
    other = signed_in(browser, site, viewer.email)
    expect(other.page.get_by_role("link", name="Webhooks")).to_have_count(0)
    other.go("/app/webhooks")
    expect(other.page.get_by_role("heading", name="Not allowed")).to_be_visible()
