"""Posting an alert to Slack or Teams, and mailing it: one attempt, success or `AlertNotSent`.

An incoming-webhook URL is checked for a public address again when it is called, and the
connection goes to the address that was checked (not to a second lookup of the name, which
could answer otherwise), with the name still used for TLS and the Host header.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from email import policy
from typing import Any
from urllib.parse import urlsplit

from service.config import Settings
from service.mail import SendError, transport_for
from surveys.email.render import sender_address, sender_domain
from surveys.errors import Invalid
from surveys.loop.alert_content import Alert
from surveys.loop.alert_messages import email_message
from surveys.outbound_urls import check_public_url

TIMEOUT_SECONDS = 10
# Worth trying again later (Slack and Teams answer 429 when rate limiting).
TRANSIENT_STATUSES = frozenset({408, 429})


class AlertNotSent(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned_address = address
        self.tls_context = context

    def connect(self) -> None:
        raw = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(raw, server_hostname=self.host)


def post_json(url: str, body: dict[str, Any], *, allow_private: bool) -> int:
    """POST the body as JSON; the status code of a 2xx answer, else AlertNotSent."""
    try:
        addresses = check_public_url(url, allow_private)
    except Invalid as exc:
        raise AlertNotSent(exc.message, permanent=True) from exc
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Flywheel-Alerts"}
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
            host, parts.port or 443, addresses[0], TIMEOUT_SECONDS, ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(host, parts.port or 80, addresses[0], TIMEOUT_SECONDS)
    try:
        conn.request("POST", path, body=payload, headers=headers)
        answer = conn.getresponse()
        text = answer.read(2000).decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        raise AlertNotSent(f"could not post to {host}: {exc}", permanent=False) from exc
    finally:
        conn.close()
    if 200 <= answer.status < 300:
        return answer.status
    permanent = answer.status not in TRANSIENT_STATUSES and answer.status < 500
    # The answer's text (e.g. Slack's "invalid_payload"), never the URL: it is the secret.
    raise AlertNotSent(f"{host} answered {answer.status}: {text[:200]}", permanent=permanent)


def send_email(alert: Alert, recipients: list[str], settings: Settings) -> None:
    """One message per recipient; sent if any went, else AlertNotSent (permanent only when
    every recipient was refused for good)."""
    failures: list[SendError] = []
    domain = sender_domain(settings.mail_from)
    with transport_for(settings.smtp_url, settings.var_dir) as transport:
        for recipient in recipients:
            message = email_message(alert, settings.mail_from, recipient, domain)
            try:
                transport.send(
                    message.as_bytes(policy=policy.SMTP),
                    sender_address(settings.mail_from),
                    recipient,
                )
            except SendError as exc:
                failures.append(exc)
    if failures and len(failures) == len(recipients):
        raise AlertNotSent(
            f"no recipient took the alert: {failures[0]}",
            permanent=all(f.permanent for f in failures),
        )
