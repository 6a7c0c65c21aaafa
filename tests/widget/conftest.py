"""Widget fixtures: a client that calls `/w/v1` with a publishable key, and a widget survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from surveys.keys import user_hash
from tests.conftest import ProjectKeys

OLD_CUSTOMER = (datetime.now(UTC) - timedelta(days=400)).isoformat()


class Widget:
    """Calls `/w/v1/<path>?key=...` as widget.js does, optionally from an Origin. Given the
    project's identity secret, it signs each identified body as the host's server would (the
    body's own `user_hash`, even None, is kept)."""

    def __init__(
        self,
        client,
        key: str,
        origin: str | None = None,
        ip: str = "10.0.0.1",
        identity_secret: str | None = None,
    ) -> None:
        self.client, self.key, self.origin, self.ip = client, key, origin, ip
        self.identity_secret = identity_secret

    @classmethod
    def of(cls, client, project: ProjectKeys, **kwargs) -> Widget:
        return cls(
            client, project.publishable_key, identity_secret=project.identity_secret, **kwargs
        )

    def post(self, path: str, body=None, *, headers=None, **kwargs):
        identified = isinstance(body, dict) and body.get("external_id")
        if self.identity_secret and identified and "user_hash" not in body:
            body = {**body, "user_hash": user_hash(self.identity_secret, body["external_id"])}
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
    return Widget.of(client, project)


@pytest.fixture
def survey(api) -> dict:
    r = api.post("/api/v1/surveys", json={"name": "In-app NPS", "product_name": "Acme"})
    assert r.status_code == 201, r.json
    return r.json
