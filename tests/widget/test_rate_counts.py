"""`LocalCounts`, the in-process storage of the rate limits: fixed windows that end on their
own, a sweep that forgets ended windows, and no thread of its own."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from service import rate_counts
from service.rate_counts import LocalCounts


def test_counts_within_a_window_and_restarts_after_it():
    counts = LocalCounts()
    assert counts.incr("k", 0.2) == 1
    assert counts.incr("k", 0.2, amount=2) == 3
    assert counts.get("k") == 3
    assert counts.get("other") == 0
    ends = counts.get_expiry("k")
    assert time.time() < ends <= time.time() + 0.2
    time.sleep(0.25)
    # The window is over: read as empty, and the next hit starts a new one.
    assert counts.get("k") == 0
    assert counts.get_expiry("k") <= time.time()
    assert counts.incr("k", 0.2) == 1


def test_fixed_window_limiter_over_local_counts():
    limiter = FixedWindowRateLimiter(LocalCounts())
    item = parse("3/minute")
    assert [limiter.hit(item, "flywheel", "10.0.0.1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    # Another caller has its own budget.
    assert limiter.hit(item, "flywheel", "10.0.0.2")
    stats = limiter.get_window_stats(item, "flywheel", "10.0.0.1")
    assert stats.remaining == 0
    assert time.time() < stats.reset_time <= time.time() + 60


def test_ended_windows_are_swept(monkeypatch):
    monkeypatch.setattr(rate_counts, "SWEEP_EVERY", 10)
    counts = LocalCounts()
    for n in range(9):
        counts.incr(f"short-{n}", 0.05)
    time.sleep(0.1)
    assert counts.size() == 9
    counts.incr("long", 60)  # the tenth increment sweeps
    assert counts.size() == 1
    assert counts.get("long") == 1


def test_clear_and_reset():
    counts = LocalCounts()
    counts.incr("a", 60)
    counts.incr("b", 60)
    counts.clear("a")
    assert (counts.get("a"), counts.get("b")) == (0, 1)
    assert counts.reset() == 1
    assert counts.get("b") == 0
    assert counts.check()


def test_starts_no_thread():
    before = threading.active_count()
    counts = LocalCounts()
    for n in range(1000):
        counts.incr(f"k{n % 7}", 60)
    assert threading.active_count() == before


def test_concurrent_hits_are_all_counted():
    counts = LocalCounts()

    def hit():
        for _ in range(2000):
            counts.incr("shared", 60)

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts.get("shared") == 8000
