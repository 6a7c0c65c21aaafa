"""Widget fixtures: a client that calls `/w/v1` with a publishable key, and a widget survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

OLD_CUSTOMER = (datetime.now(UTC) - timedelta(days=400)).isoformat()


class Widget:
    """Calls `/w/v1/<path>?key=...` as widget.js does, optionally from an Origin."""

    def __init__(self, client, key: str, origin: str | None = None, ip: str = "10.0.0.1") -> None:
        self.client, self.key, self.origin, self.ip = client, key, origin, ip

    def post(self, path: str, body=None, *, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.origin:
            headers["Origin"] = self.origin
        return self.client.post(
            f"/w/v1/{path}?key={self.key}",
            json=body,
            headers=headers,
            environ_base={"REMOTE_ADDR": self.ip},
            **kwargs,
        )

    def visit(self, **body):
        return self.post("visits", body)

    def customer(self, external_id: str = "u-1", **body):
        """A visit of an identified, long-standing customer: due unless something says not."""
        return self.visit(external_id=external_id, created_at=OLD_CUSTOMER, **body)


@pytest.fixture
def widget(client, project) -> Widget:
    return Widget(client, project.publishable_key)


@pytest.fixture
def survey(api) -> dict:
    r = api.post("/api/v1/surveys", json={"name": "In-app NPS", "product_name": "Acme"})
    assert r.status_code == 201, r.json
    return r.json
