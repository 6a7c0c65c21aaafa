"""The app's caches live in one registry: a widget visit fills every member, one `clear()`
empties them all, and the app answers the same afterwards."""

from __future__ import annotations

from service.caches import caches


def test_clearing_the_registry_empties_every_cache_and_the_app_still_answers(app, widget, survey):
    assert widget.customer("u-1").status_code == 200
    returning = widget.customer("u-1")  # reads only, on this thread's kept connection
    assert returning.json["reason"] == "resumed"
    with app.app_context():
        registry = caches()
        filled = registry.sizes()
        assert set(filled) == {"memos", "widget_keys", "read_connections"}
        assert all(size > 0 for size in filled.values()), filled

        registry.clear()
        assert registry.sizes() == dict.fromkeys(filled, 0)

    again = widget.customer("u-1")
    assert again.status_code == 200
    assert again.json == returning.json
    with app.app_context():
        assert caches().sizes()["widget_keys"] == 1
