"""`make bench`: every benchmark in turn, each in its own process, output kept in bench/out/.

python -m bench            # all
python -m bench http export  # only those whose name contains a word given
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
# (name, module, arguments): ordered cheap to expensive.
BENCHMARKS = [
    ("http", "bench.bench_http", []),
    ("threads", "bench.bench_threads", []),
    ("capped-visit", "bench.bench_capped_visit", []),
    ("instructions", "bench.bench_instructions", []),
    ("metrics", "bench.bench_metrics", []),
    ("movement", "bench.bench_movement", []),
    ("schedule", "bench.bench_schedule", []),
    ("erasure", "bench.bench_erasure", []),
    ("dispatch", "bench.bench_dispatch", []),
    ("export", "bench.bench_export", []),
    ("clustering", "bench.bench_clustering", ["--data", str(DATA)]),
    ("webhooks", "bench.bench_webhooks", []),
    ("digest", "bench.bench_digest", []),
    ("alerts", "bench.bench_alerts", []),
    ("triage_export", "bench.bench_triage_export", []),
    ("surveys-page", "bench.bench_surveys_page", []),
    ("pages", "bench.bench_pages", []),
    ("bulk", "bench.bench_bulk", []),
]


def main(words: list[str]) -> int:
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, module, args in BENCHMARKS:
        if words and not any(w in name for w in words):
            continue
        print(f"\n=== {name}: python -m {module} {' '.join(args)}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT)
        print(f"=== {name}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
