"""Mail transports: SMTP from `SMTP_URL` over one reused connection, or `.eml` files.

`SMTP_URL` is `smtp://`, `smtp+starttls://` or `smtps://`, with optional `user:password@`
and port. Without it each message is written to `var/outbox/` (the laptop default).

A send either succeeds or raises `SendError`, which tells the dispatcher what to do:
retry (transient: 4xx, connection trouble before the message was handed over), give up
(permanent 5xx; `bounce` when the recipient was refused), or mark the invitation
`uncertain` when the connection broke while the message itself was being handed over.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

from service.private_files import write_private

log = logging.getLogger(__name__)

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 30


class SendError(Exception):
    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        bounce: bool = False,
        uncertain: bool = False,
        connection: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.bounce = bounce
        self.uncertain = uncertain
        # The server is unreachable: the rest of the batch would fail the same way.
        self.connection = connection


Ready = Callable[[], bool]
Meanwhile = Callable[[], None]
# Lines starting with a dot are sent with one more (RFC 5321 4.5.2), as smtplib does.
_DOT = re.compile(rb"(?m)^\.")


def _go() -> bool:
    return True


def _idle() -> None:
    return None


class Transport(Protocol):
    def send(
        self,
        message: bytes,
        sender: str,
        recipient: str,
        *,
        ready: Ready = _go,
        meanwhile: Meanwhile = _idle,
    ) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port]")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or SCHEMES[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __repr__(self) -> str:
        # Never show the password, in logs or tracebacks.
        return f"SmtpTarget({self.scheme}://{self.host}:{self.port}, user={self.username!r})"


def _smtp_error(code: int, reply: bytes | str, stage: str, *, bounce: bool = False) -> SendError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    permanent = code >= 500
    return SendError(f"{stage}: {code} {text}", permanent=permanent, bounce=bounce and permanent)


class SmtpTransport:
    """One connection, opened on the first send and reused until closed or broken."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.target = SmtpTarget.parse(url)
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        try:
            if t.scheme == "smtps":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=TIMEOUT_SECONDS, context=self.ssl_context
                )
            else:
                conn = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT_SECONDS)
            conn.ehlo()
            if t.scheme == "smtp+starttls":
                conn.starttls(context=self.ssl_context)
                conn.ehlo()
            if t.username:
                conn.login(t.username, t.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"SMTP login refused: {exc.smtp_code}", permanent=False, connection=True
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(
                f"cannot connect to SMTP server: {exc}", permanent=False, connection=True
            ) from exc
        return conn

    def send(
        self,
        message: bytes,
        sender: str,
        recipient: str,
        *,
        ready: Ready = _go,
        meanwhile: Meanwhile = _idle,
    ) -> bool:
        """Send one message; False when `ready` declined it (nothing was handed over).

        `ready` runs once, before DATA: nothing is delivered until the message's final dot,
        so whatever it records (the dispatcher commits "in flight") is durable before the
        message can arrive. The conversation is driven command by command so that the
        caller's work overlaps the server's: `ready` runs while the server checks the
        recipient, `meanwhile` (which must not raise) while it takes in the message.
        """
        conn = self._envelope(sender, recipient)
        try:
            go = ready()
        except BaseException:
            # The envelope is open on the server; a fresh connection is the clean way out.
            self.close()
            raise
        try:
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            if not go:
                return False
            raise SendError(
                f"connection lost before sending: {exc}", permanent=False, connection=True
            ) from exc
        if not go:
            # Called off: whatever the server said about the recipient is not ours to record.
            self._reset(conn)
            return False
        if code not in (250, 251):
            self._reset(conn)
            raise _smtp_error(code, reply, "RCPT TO", bounce=True)
        try:
            code, reply = conn.docmd("data")
            if code != 354:
                self._reset(conn)
                raise _smtp_error(code, reply, "DATA")
            conn.send(_DOT.sub(b"..", message).removesuffix(b"\r\n") + b"\r\n.\r\n")
            meanwhile()
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The message may have been accepted before the connection broke.
            self.close()
            raise SendError(
                f"connection lost while sending: {exc}", permanent=False, uncertain=True
            ) from exc
        if code != 250:
            raise _smtp_error(code, reply, "DATA")
        return True

    def _envelope(self, sender: str, recipient: str) -> smtplib.SMTP:
        """MAIL FROM accepted and RCPT TO written: its reply is left for `send` to read."""
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn = self._conn or self._connect()
            try:
                code, reply = conn.mail(sender)
                if code != 250:
                    self._reset(conn)
                    raise _smtp_error(code, reply, "MAIL FROM")
                conn.putcmd("rcpt", f"TO:{smtplib.quoteaddr(recipient)}")
                return conn
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self.close()
                # A reused connection may have been closed by the server while idle:
                # nothing was handed over yet, so one fresh connection is safe to try.
                if not reused or attempt == 2:
                    raise SendError(
                        f"connection lost before sending: {exc}", permanent=False, connection=True
                    ) from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.quit()
        except (smtplib.SMTPException, OSError):
            self._conn.close()
        self._conn = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


class FileTransport:
    """Writes each message as an `.eml` file: mail you can open, without a server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(
        self,
        message: bytes,
        sender: str,
        recipient: str,
        *,
        ready: Ready = _go,
        meanwhile: Meanwhile = _idle,
    ) -> bool:
        if not ready():
            return False
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
        # Owner-only: the message carries live score and unsubscribe links.
        write_private(path, message)
        log.info("wrote %s for %s", path, recipient)
        meanwhile()
        return True

    def close(self) -> None:
        return None

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def transport_for(smtp_url: str | None, var_dir: Path) -> SmtpTransport | FileTransport:
    if smtp_url:
        return SmtpTransport(smtp_url)
    return FileTransport(var_dir / "outbox")
