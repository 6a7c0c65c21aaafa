"""`make reliability`: every load and fault run in turn; figures in bench/out/reliability/.

Takes about six minutes: four 60-second load runs (SQLite and PostgreSQL, steady and with a
gunicorn worker SIGKILLed every 5 s) and three outbox runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = [
    ("load", ["--db", "sqlite"]),
    ("load", ["--db", "sqlite", "--kill-every", "5"]),
    ("load", ["--db", "postgresql"]),
    ("load", ["--db", "postgresql", "--kill-every", "5"]),
    ("mail_faults", ["--db", "sqlite"]),
    ("mail_faults", ["--db", "postgresql"]),
    ("mail_faults", ["--db", "postgresql", "--concurrent"]),
]


def main() -> int:
    failed = []
    for module, args in RUNS:
        command = [sys.executable, "-m", f"bench.reliability.{module}", *args]
        print("\n===", " ".join(command[1:]), flush=True)
        if subprocess.run(command, cwd=ROOT).returncode:
            failed.append(" ".join(command[2:]))
    print("\nfailed: " + ", ".join(failed) if failed else "\nall reliability runs held")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
