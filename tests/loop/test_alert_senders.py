"""The worker's HTTP sender: TLS certificates are verified against the URL's name (a pinned
address does not weaken it), and answers are sorted into retry or give up."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.worker.alert_senders import AlertNotSent, post_json


def _self_signed(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(int(self.path.strip("/") or 200))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"no")

    def log_message(self, *args):
        return None


@pytest.fixture
def tls_server(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = HTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_untrusted_certificate_is_refused_and_retried_later(tls_server):
    with pytest.raises(AlertNotSent) as refused:
        post_json(f"https://localhost:{tls_server}/200", {"text": "x"}, allow_private=True)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert refused.value.permanent is False


@pytest.mark.parametrize(
    ("status", "permanent"), [(408, False), (429, False), (500, False), (400, True), (404, True)]
)
def test_statuses_sort_into_retry_or_give_up(status, permanent):
    server = HTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{status}"
        with pytest.raises(AlertNotSent) as failed:
            post_json(url, {"text": "x"}, allow_private=True)
        assert failed.value.permanent is permanent
        assert f"answered {status}" in str(failed.value)
        assert url not in str(failed.value)  # the URL is the secret; only its host is named
    finally:
        server.shutdown()
        server.server_close()


def test_a_private_address_is_refused_for_good_without_allowing_it():
    with pytest.raises(AlertNotSent) as refused:
        post_json("http://127.0.0.1:9/hook", {"text": "x"}, allow_private=False)
    assert refused.value.permanent is True
