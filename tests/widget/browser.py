"""The host page for the browser tests: hostile CSS and a strict Content-Security-Policy, on a
loopback port of its own (the app is served on another, so the widget is cross-origin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import axe_playwright_python

from tests.live import serving

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Host app</title>
<link rel="stylesheet" href="/hostile.css">
<script src="/app.js"></script>
<script src="{api}/widget.js" data-key="{key}" async></script>
</head>
<body>
<main>
<h1>Host app</h1>
<p><a href="#top" id="first">A host link</a></p>
<button id="feedback" type="button">Send feedback</button>
<div class="card" id="host-card">The host's own card</div>
</main>
</body>
</html>
"""

# Everything a careless or hostile host stylesheet might do to a third-party widget.
HOSTILE_CSS = """
* { font-family: "Comic Sans MS", cursive !important; line-height: 3 !important;
    box-sizing: content-box !important; letter-spacing: 3px !important; }
div, p, span, label, input, textarea, form, select, a {
    margin: 20px !important; padding: 15px !important; border: 4px dashed #000 !important;
    width: 40px !important; }
button:not(#feedback) { display: none !important; }
input { appearance: none !important; visibility: hidden !important; }
body > * { opacity: 0.3 !important; transform: scale(0.5) !important; position: static !important; }
flywheel-widget { display: none !important; }
.card { border-radius: 0 !important; }
"""

HOST_JS = """
window.flywheel = window.flywheel || function () {
  (window.flywheel.q = window.flywheel.q || []).push(arguments);
};
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
flywheel("identify", __IDENTITY__);
document.addEventListener("DOMContentLoaded", function () {
  document.getElementById("feedback").addEventListener("click", function () {
    flywheel("feedback");
  });
});
"""


def csp(api_origin: str) -> str:
    return (
        "default-src 'none'; "
        f"script-src 'self' {api_origin}; "
        f"connect-src {api_origin}; "
        "style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


@contextmanager
def serve_host(api_origin: str, key: str, identity_json: str) -> Iterator[str]:
    files = {
        "/": ("text/html", HOST_PAGE.format(api=api_origin, key=key)),
        "/hostile.css": ("text/css", HOSTILE_CSS),
        "/app.js": ("text/javascript", HOST_JS.replace("__IDENTITY__", identity_json)),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            path = self.path.split("?")[0]
            if path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            if path not in files:
                self.send_error(404)
                return
            mimetype, text = files[path]
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", f"{mimetype}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp(api_origin))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep the test output quiet
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url
