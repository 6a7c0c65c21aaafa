"""Real threaded HTTP servers on loopback ports, for browsers and racing clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer

from werkzeug.serving import make_server


@contextmanager
def serving(server: BaseServer) -> Iterator[str]:
    """Run a bound server (one thread per request) until the block ends; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serve_app(app):
    """The app served on a loopback port, as `with serve_app(app) as base_url:`."""
    return serving(make_server("127.0.0.1", 0, app, threaded=True))
