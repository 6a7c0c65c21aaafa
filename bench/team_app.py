"""Signing in to the team app from a benchmark: through the real sign-in form, CSRF token
included, with Flask's test client (what a browser sends, without a browser)."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(app: Any, email: str, password: str) -> Any:
    """A test client of `app` signed in as `email`."""
    client = app.test_client()
    page = client.get("/app/sign-in").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    r = client.post(
        "/app/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client
