"""The SMTP transport against a real server: the hook that records "in flight" runs before
anything can be delivered and can still call the message off, the connection survives a
declined or refused message, and the bytes arrive as written."""

from __future__ import annotations

import pytest

from service.mail import SendError, SmtpTransport

SENDER = "nps@acme.test"


def _message(subject: str, body: str = "Hello.") -> bytes:
    return (
        f"From: {SENDER}\r\nTo: someone@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@acme.test>\r\n\r\n{body}\r\n"
    ).encode()


def test_ready_runs_before_the_data_and_can_decline(smtp_sink):
    calls: list[str] = []
    with SmtpTransport(smtp_sink.url) as transport:

        def ready() -> bool:
            calls.append(f"ready, {len(smtp_sink.received)} received")
            return False

        assert not transport.send(_message("declined"), SENDER, "ann@example.com", ready=ready)
        sent = transport.send(
            _message("accepted"),
            SENDER,
            "bob@example.com",
            ready=lambda: calls.append("ready") or True,
            meanwhile=lambda: calls.append("meanwhile"),
        )
        assert sent
    assert calls == ["ready, 0 received", "ready", "meanwhile"]
    assert [r.message["Subject"] for r in smtp_sink.received] == ["accepted"]


def test_a_message_called_off_reports_nothing_about_its_recipient(smtp_sink):
    # A dispatcher that lost its claim must not record a bounce for someone else's message.
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 no such user"
    with SmtpTransport(smtp_sink.url) as transport:
        assert not transport.send(_message("x"), SENDER, "gone@example.com", ready=lambda: False)
        with pytest.raises(SendError) as refused:
            transport.send(_message("y"), SENDER, "gone@example.com")
    assert refused.value.bounce
    assert smtp_sink.received == []


def test_a_failing_ready_sends_nothing_and_the_next_message_goes_through(smtp_sink):
    def broken() -> bool:
        raise RuntimeError("database is locked")

    with SmtpTransport(smtp_sink.url) as transport:
        with pytest.raises(RuntimeError):
            transport.send(_message("lost"), SENDER, "ann@example.com", ready=broken)
        assert transport.send(_message("next"), SENDER, "ann@example.com")
    assert [r.message["Subject"] for r in smtp_sink.received] == ["next"]


def test_refusals_after_data_are_permanent_or_transient_but_never_bounces(smtp_sink):
    smtp_sink.refuse_data["spam@example.com"] = "554 5.7.1 message rejected"
    smtp_sink.refuse_data["busy@example.com"] = "452 4.3.1 insufficient storage"
    with SmtpTransport(smtp_sink.url) as transport:
        with pytest.raises(SendError) as permanent:
            transport.send(_message("a"), SENDER, "spam@example.com")
        with pytest.raises(SendError) as transient:
            transport.send(_message("b"), SENDER, "busy@example.com")
        assert transport.send(_message("c"), SENDER, "ann@example.com")
    assert permanent.value.permanent and not permanent.value.bounce
    assert not transient.value.permanent and not transient.value.uncertain
    assert [r.message["Subject"] for r in smtp_sink.received] == ["c"]


def test_lines_starting_with_a_dot_arrive_intact(smtp_sink):
    body = ".hidden\r\n..two\r\nplain\r\n.\r\nend"
    with SmtpTransport(smtp_sink.url) as transport:
        assert transport.send(_message("dots", body), SENDER, "ann@example.com")
    [got] = smtp_sink.received
    assert got.message.get_content().replace("\r\n", "\n") == body.replace("\r\n", "\n") + "\n"
