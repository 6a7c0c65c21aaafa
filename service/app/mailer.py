"""Account emails (invitation to a project, password reset), sent at once through the survey
mail transport: SMTP from SMTP_URL, or `.eml` files in var/outbox/.

Sent inside the request, unlike survey mail: one message that a person is waiting for, whose
failure the inviting owner should see, rather than a batch for the worker.
"""

from __future__ import annotations

import logging
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

from service.config import Settings
from service.mail import SendError, transport_for
from surveys.email.render import sender_address, sender_domain

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The transport refused or failed: the page says so, nothing else changes."""


def public_link(endpoint: str, **values: object) -> str:
    """A team-app address as a recipient opens it: on PUBLIC_URL, whatever host served this
    (and from the CLI too, where there is no request to take a host from)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["FLYWHEEL"].public_url + path


def send_account_mail(recipient: str, subject: str, template: str, **context: object) -> None:
    settings: Settings = current_app.config["FLYWHEEL"]
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("account", domain=sender_domain(settings.mail_from))
    # Answered by nobody: auto-responders should stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"app/email/{template}", **context))
    try:
        with transport_for(settings.smtp_url, settings.var_dir) as transport:
            transport.send(
                message.as_bytes(policy=policy.SMTP),
                sender_address(settings.mail_from),
                recipient,
            )
    except SendError as exc:
        # The message text holds a one-time link: only the error is logged.
        log.warning("account email %r not sent: %s", subject, exc)
        raise MailNotSent(str(exc)) from exc


def send_built_message(message: bytes, recipient: str, what: str) -> None:
    """A message built elsewhere (a survey email's test), through the same transport."""
    settings: Settings = current_app.config["FLYWHEEL"]
    try:
        with transport_for(settings.smtp_url, settings.var_dir) as transport:
            transport.send(message, sender_address(settings.mail_from), recipient)
    except SendError as exc:
        log.warning("%s not sent: %s", what, exc)
        raise MailNotSent(str(exc)) from exc
