"""GET /widget.js: one small script, versioned, ETagged, gzipped, loadable from any page."""

import gzip

from service.widget.script import SCRIPT_PATH

MAX_GZIPPED = 6 * 1024


def test_script_is_small_and_gzipped(client):
    r = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.mimetype == "text/javascript"
    assert len(r.data) <= MAX_GZIPPED
    assert gzip.decompress(r.data) == SCRIPT_PATH.read_bytes()
    assert "Accept-Encoding" in r.headers["Vary"]


def test_plain_for_clients_without_gzip(client):
    r = client.get("/widget.js")
    assert r.data == SCRIPT_PATH.read_bytes() and "Content-Encoding" not in r.headers


def test_etag_and_revalidation(client):
    first = client.get("/widget.js")
    version = first.headers["X-Widget-Version"]
    assert first.headers["ETag"] == f'"{version}"'
    assert "max-age=300" in first.headers["Cache-Control"]
    again = client.get("/widget.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_versioned_url_is_immutable(client):
    version = client.get("/widget.js").headers["X-Widget-Version"]
    r = client.get(f"/widget.js?v={version}")
    assert (
        "immutable" in r.headers["Cache-Control"]
        and "max-age=31536000" in r.headers["Cache-Control"]
    )


def test_script_needs_no_key_and_no_inline_anything(client):
    text = client.get("/widget.js").get_data(as_text=True)
    assert "innerHTML" not in text and "eval(" not in text and "new Function" not in text
    assert "adoptedStyleSheets" in text and "attachShadow" in text
