"""Webhook deliveries outside requests: fan the outbox out, claim due deliveries, POST them
signed, record what happened, and tell a disabled endpoint's owners.

The worker runs this every second or so (`loop.run_forever` starts a short-interval thread
for it), so an event reaches its endpoint within seconds, not on the one-minute tick.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from service.config import Settings
from service.db import db
from service.mail import SendError, transport_for
from service.schemas.invitations import InvitationSchema, UnsubscribeSchema
from service.schemas.people import PersonSchema
from service.schemas.responses import ResponseSchema
from service.schemas.themes import ThemeRunSchema
from surveys import events
from surveys.clock import utcnow
from surveys.email.render import sender_address, sender_domain
from surveys.errors import Invalid
from surveys.loop import deliveries, signing
from surveys.loop.webhooks import SEAL_PURPOSE
from surveys.models import (
    Event,
    Invitation,
    Membership,
    Person,
    SurveyResponse,
    ThemeRun,
    User,
)
from surveys.outbound_urls import check_public_url
from surveys.response_context import attach_contexts
from surveys.sealed import Sealer
from surveys.segments import segment_of

log = logging.getLogger(__name__)

CLAIM_BATCH = 200
SENDERS = 8
# Connections to one endpoint at once: more throughput, without flooding a small receiver.
PER_URL = 4
# Bytes of a receiver's answer read (and dropped) so the connection can be reused.
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Flywheel-Webhooks/1"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- rendering: an event's data is the API's JSON of its object -------------------------


def render(session, taken: Sequence[Event]) -> dict[int, deliveries.Rendered]:
    by_type: dict[str, list[Event]] = {}
    for event in taken:
        by_type.setdefault(event.type, []).append(event)
    out: dict[int, deliveries.Rendered] = {}
    response_events = by_type.get(events.RESPONSE_CREATED, []) + by_type.get(
        events.RESPONSE_UPDATED, []
    )
    if response_events:
        found = _load(session, SurveyResponse, response_events)
        for project_id in {r.project_id for r in found.values()}:
            attach_contexts(
                session, project_id, [r for r in found.values() if r.project_id == project_id]
            )
        schema = ResponseSchema()
        for event in response_events:
            response = found.get(event.object_id)
            if response is not None and response.project_id == event.project_id:
                segment = segment_of(response.score)
                out[event.id] = deliveries.Rendered(
                    schema.dump(response),
                    {
                        "survey_id": response.survey_id,
                        "score": response.score,
                        "segment": segment.value if segment else None,
                    },
                    response.person_id,
                )
    simple = (
        (events.THEME_RUN_COMPLETED, ThemeRun, ThemeRunSchema()),
        (events.INVITATION_BOUNCED, Invitation, InvitationSchema()),
        (events.UNSUBSCRIBE_CREATED, Person, UnsubscribeSchema()),
    )
    for event_type, model, schema in simple:
        chosen = by_type.get(event_type, [])
        found = _load(session, model, chosen)
        for event in chosen:
            obj = found.get(event.object_id)
            if obj is not None and obj.project_id == event.project_id:
                facts = {"survey_id": obj.survey_id} if hasattr(obj, "survey_id") else {}
                whose = obj.id if model is Person else getattr(obj, "person_id", None)
                out[event.id] = deliveries.Rendered(schema.dump(obj), facts, whose)
    changed = by_type.get(events.SEGMENT_CHANGED, [])
    people = _load(session, Person, changed)
    person_schema = PersonSchema()
    for event in changed:
        person = people.get(event.object_id)
        if person is not None and person.project_id == event.project_id:
            data = {"person": person_schema.dump(person), **event.data}
            facts = {"survey_id": event.data.get("survey_id"), "segment": event.data.get("segment")}
            out[event.id] = deliveries.Rendered(data, facts, person.id)
    return out


def _load(session, model, chosen: Sequence[Event]) -> dict:
    ids = {e.object_id for e in chosen if e.object_id is not None}
    if not ids:
        return {}
    return {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids)))}


# --- sending -------------------------------------------------------------------------------


def _connected(address: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # Headers and body leave in two writes: without this, Nagle's algorithm holds the body
    # until the receiver's delayed ACK (40 ms per message), as http.client's own connect knows.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address the SSRF check approved, not to whatever the name resolves
    to a moment later (DNS rebinding)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = _connected(self.address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = _connected(self.address, self.port, self.timeout)
        # The certificate is checked against the URL's host name.
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


class Sender:
    """POSTs deliveries, keeping one connection per target for the sender's life (one
    thread's share of one pass). What it checked or opened (a URL's approved addresses, a
    secret) it keeps for that life too: the next pass checks and opens again."""

    def __init__(self, settings: Settings, sealer: Sealer) -> None:
        self.settings, self.sealer = settings, sealer
        self.connections: dict[tuple[str, str, int, str], http.client.HTTPConnection] = {}
        self.addresses: dict[str, list[str] | str] = {}
        self.secrets: dict[str, str | None] = {}

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    def _addresses(self, url: str) -> list[str] | str:
        """The approved addresses, or why the URL is refused."""
        if url not in self.addresses:
            try:
                self.addresses[url] = check_public_url(url, self.settings.webhook_allow_private)
            except Invalid as exc:
                self.addresses[url] = f"refused: {exc.message}"
        return self.addresses[url]

    def _secret(self, sealed: str) -> str | None:
        if sealed not in self.secrets:
            try:
                self.secrets[sealed] = self.sealer.open(sealed)
            except ValueError:
                self.secrets[sealed] = None
        return self.secrets[sealed]

    def send(self, attempt: deliveries.Attempt) -> deliveries.Outcome:
        addresses = self._addresses(attempt.url)
        if isinstance(addresses, str):
            return deliveries.Outcome(False, False, None, None, addresses)
        secret = self._secret(attempt.sealed_secret)
        if secret is None:
            return deliveries.Outcome(False, False, None, None, "the signing secret is unreadable")
        parts = urlsplit(attempt.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, host, port, addresses[0])
        body = attempt.payload.encode()
        headers = {
            **signing.headers(secret, attempt.msg_id, attempt.payload, utcnow()),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        started = time.perf_counter()
        for second_try in (False, True):
            conn = self.connections.get(key)
            kept = conn is not None
            if conn is None:
                kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
                conn = self.connections[key] = kind(
                    host, port, addresses[0], self.settings.webhook_timeout_seconds
                )
            try:
                conn.request("POST", path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read(MAX_ANSWER_BYTES)
                code = answer.status
                if answer.will_close:
                    self._drop(key)
                break
            except TimeoutError:
                self._drop(key)
                return self._failed(started, "timed out", retry=True)
            except (OSError, http.client.HTTPException) as exc:
                self._drop(key)
                # A kept connection the receiver closed while idle: one fresh try, within
                # the same attempt (at least once allows the rare double).
                if kept and not second_try:
                    continue
                return self._failed(started, f"connection failed: {exc}", retry=True)
        latency = round((time.perf_counter() - started) * 1000)
        if 200 <= code < 300:
            return deliveries.Outcome(True, False, code, latency)
        retry = code in (408, 429) or code >= 500
        return deliveries.Outcome(False, retry, code, latency, f"answered HTTP {code}")

    def _drop(self, key) -> None:
        conn = self.connections.pop(key, None)
        if conn is not None:
            conn.close()

    @staticmethod
    def _failed(started: float, error: str, *, retry: bool) -> deliveries.Outcome:
        latency = round((time.perf_counter() - started) * 1000)
        return deliveries.Outcome(False, retry, None, latency, error)


def _send_all(
    settings: Settings, sealer: Sealer, claimed: list[deliveries.Attempt], stop_at: float
) -> list[tuple[deliveries.Attempt, deliveries.Outcome]]:
    """Up to SENDERS lanes in parallel, each over its own kept connections; one URL gets up
    to PER_URL lanes (no order is promised, as the spec says; receivers order by timestamp).
    A lane still sending at `stop_at` (a slow endpoint) hands the rest back untried, before
    the claim's lease could run out and another worker send them too."""
    by_url: dict[str, list[deliveries.Attempt]] = {}
    for attempt in claimed:
        by_url.setdefault(attempt.url, []).append(attempt)
    per_url = max(1, min(PER_URL, SENDERS // len(by_url)))
    chunks = []
    for group in by_url.values():
        ways = min(per_url, len(group))
        chunks.extend(group[i::ways] for i in range(ways))
    lanes: list[list[deliveries.Attempt]] = [[] for _ in range(min(SENDERS, len(chunks)))]
    for chunk in sorted(chunks, key=len, reverse=True):
        min(lanes, key=len).extend(chunk)

    def run(lane: list[deliveries.Attempt]):
        sender = Sender(settings, sealer)
        try:
            return [
                (a, sender.send(a) if time.monotonic() < stop_at else deliveries.UNTRIED)
                for a in lane
            ]
        finally:
            sender.close()

    if len(lanes) == 1:
        return run(lanes[0])
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        return [pair for done in pool.map(run, lanes) for pair in done]


# --- the pass ------------------------------------------------------------------------------


def fan_out_pass(app: Flask, now: datetime | None = None) -> int:
    taken = 0
    while True:
        count = deliveries.fan_out(db(), now or utcnow(), render)
        db().commit()
        taken += count
        if count < deliveries.FAN_OUT_BATCH:
            return taken


def timings(settings: Settings) -> tuple[float, timedelta]:
    """(seconds a pass's lanes may start attempts, the claim's lease): the lease covers the
    sending time, the attempts then in flight (at most one timeout each) and recording."""
    sending = settings.webhook_timeout_seconds * 3 + 30
    return sending, timedelta(seconds=sending + settings.webhook_timeout_seconds + 30)


def deliver_pass(app: Flask, now: datetime | None = None) -> int:
    """Worker pass: fan out new events, then send every due delivery; returns how many
    deliveries were attempted. `now` drives the schedule (tests pass one); signatures always
    carry the real time, which receivers check."""
    settings: Settings = app.config["FLYWHEEL"]
    sealer = Sealer(app.config["SECRET_KEY"], SEAL_PURPOSE)
    fan_out_pass(app, now)
    claimer = f"{worker_name()}:{time.monotonic_ns()}"
    sent = 0
    while True:
        moment = now or utcnow()
        sending, lease = timings(settings)
        claimed = deliveries.claim(db(), claimer, moment, limit=CLAIM_BATCH, lease=lease)
        db().commit()
        if not claimed:
            return sent
        results = _send_all(settings, sealer, claimed, time.monotonic() + sending)
        disabled = deliveries.record(db(), results, now or utcnow())
        db().commit()
        sent += len(claimed)
        for item in disabled:
            tell_owners(app, item)
        if len(claimed) < CLAIM_BATCH:
            return sent


def tell_owners(app: Flask, disabled: deliveries.Disabled) -> int:
    """Email the project's owners that the worker disabled their webhook; returns how many
    were told. A mail failure is logged, never retried: the API shows the state too."""
    settings: Settings = app.config["FLYWHEEL"]
    owners = list(
        db().scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == disabled.project_id, Membership.role == "owner")
            .order_by(User.email)
        )
    )
    told = 0
    with transport_for(settings.smtp_url, settings.var_dir) as transport:
        for address in owners:
            message = EmailMessage()
            message["From"] = settings.mail_from
            message["To"] = address
            message["Subject"] = "A webhook was disabled after failing"
            message["Date"] = formatdate(usegmt=True)
            message["Message-ID"] = make_msgid("webhook", domain=sender_domain(settings.mail_from))
            message["Auto-Submitted"] = "auto-generated"
            message.set_content(
                f"Flywheel stopped sending events to webhook {disabled.webhook_id}:\n\n"
                f"    {disabled.url}\n\nbecause {disabled.reason}.\n\n"
                "Its undelivered events are kept. Fix the endpoint, then turn the webhook "
                "back on (PATCH /api/v1/webhooks/"
                f'{disabled.webhook_id} with {{"active": true}}) and they are sent again;\n'
                f"the delivery log is at {settings.public_url}/api/v1/webhooks/"
                f"{disabled.webhook_id}/deliveries.\n"
            )
            try:
                transport.send(
                    message.as_bytes(policy=policy.SMTP),
                    sender_address(settings.mail_from),
                    address,
                )
                told += 1
            except SendError as exc:
                log.warning("webhook %s disabled; owner not told: %s", disabled.webhook_id, exc)
    return told
