"""Export benchmark: CSV of every response through the HTTP API vs the sqlite3 CLI's CSV dump.

For 100k and 1M responses (`bench.dataset`), in the same run: the sqlite3 command-line tool
runs the export's own SELECT (compiled for SQLite, so the same columns, joins, window function
and defanging) with `.mode csv` into /dev/null; then a real gunicorn (one gthread worker, the
project's gunicorn.conf.py) serves `GET /api/v1/export/responses?format=csv` to a client that
reads the chunked stream in 1 MiB reads and throws it away. Printed: rows/s of both, their
ratio (target >= 0.5; and the ratio of CPU seconds, steadier on a shared machine), time to
the first byte, and the worker's peak RSS (VmHWM, target under
200 MB and flat from 100k to 1M). Raw output goes to bench/out/bench_export.json.

    .venv/bin/python -m bench.bench_export [--sizes 100000,1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from bench.dataset import build
from service.db import make_engine
from surveys.export.responses import ExportQuery, plan_export
from surveys.models import Project, SurveyResponse
from surveys.projects import rotate_keys
from surveys.response_filters import ResponseFilters

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PEOPLE_PER_ROW = 4  # bench.dataset: every person answers once per quarter, 4 quarters


def prepare(rows: int) -> tuple[Path, str, str]:
    """The dataset file (built once, reused), a fresh secret key and the export SQL."""
    path = OUT / f"export_{rows // 1000}k.db"
    engine = make_engine(f"sqlite:///{path}")
    if path.exists():
        with Session(engine) as session:
            if session.query(SurveyResponse).count() != rows:
                path.unlink()
    if not path.exists():
        engine.dispose()
        t0 = time.perf_counter()
        build(path, people=rows // PEOPLE_PER_ROW, quarters=PEOPLE_PER_ROW)
        print(f"built {path.name}: {rows:,} responses in {time.perf_counter() - t0:.0f} s")
        engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        project = session.get(Project, 1)
        key = rotate_keys(session, project.id).keys.secret_key
        session.commit()
        plan = plan_export(session, project, ExportQuery(ResponseFilters(), defang=True))
        sql = str(plan.statement.compile(engine, compile_kwargs={"literal_binds": True}))
    engine.dispose()
    return path, key, sql


def sqlite_cli(path: Path, sql: str) -> dict:
    script = f".headers on\n.mode csv\n{sql};\n"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(["sqlite3", str(path)], input=script.encode(), stdout=sink, check=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pid(master: int) -> int:
    for _ in range(200):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise RuntimeError("gunicorn started no worker")


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(port: int) -> None:
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /healthz")


def service(path: Path, key: str, log: Path) -> dict:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "VAR_DIR": str(OUT / "export_var"),
        "SECRET_KEY": "bench-export-secret-key-not-for-production",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "ACCESS_LOG": str(log),
    }
    with open(log, "ab") as logfile:
        master = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--timeout",
                "600",
                "wsgi:app",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=logfile,
            stderr=logfile,
        )
    try:
        wait_ready(port)
        pid = worker_pid(master.pid)
        idle_kb = memory_kb(pid, "VmRSS")
        cpu0 = cpu_seconds(pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        t0 = time.perf_counter()
        conn.request(
            "GET",
            "/api/v1/export/responses?format=csv",
            headers={"Authorization": f"Bearer {key}"},
        )
        response = conn.getresponse()
        assert response.status == 200, response.read()[:500]
        first = response.read1(1 << 20)
        ttfb = time.perf_counter() - t0
        size, records, last = len(first), first.count(b"\r\n"), first[-1:]
        while chunk := response.read1(1 << 20):
            size += len(chunk)
            # A CRLF may be split between two reads.
            records += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
        seconds = time.perf_counter() - t0
        return {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds(pid) - cpu0,
            "first_byte_seconds": ttfb,
            "bytes": size,
            # bench.dataset's embedded newlines are bare \n, so CRLFs count records.
            "rows": records - 1,
            "idle_rss_mb": idle_kb / 1024,
            "peak_rss_mb": memory_kb(pid, "VmHWM") / 1024,
        }
    finally:
        master.terminate()
        master.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["which", "sqlite3"], capture_output=True).returncode != 0:
        sys.exit("the sqlite3 command-line tool is missing: apt-get install -y sqlite3")
    results = []
    for rows in (int(s) for s in args.sizes.split(",")):
        path, key, sql = prepare(rows)
        cli = min((sqlite_cli(path, sql) for _ in range(args.repeat)), key=lambda r: r["seconds"])
        api = min(
            (service(path, key, OUT / "bench_export_gunicorn.log") for _ in range(args.repeat)),
            key=lambda r: r["seconds"],
        )
        assert api["rows"] == rows, (api["rows"], rows)
        result = {
            "rows": rows,
            "cli_rows_per_s": rows / cli["seconds"],
            "api_rows_per_s": rows / api["seconds"],
            "ratio": cli["seconds"] / api["seconds"],
            "cpu_ratio": cli["cpu_seconds"] / api["cpu_seconds"],
            "cli": cli,
            "api": api,
        }
        results.append(result)
        print(
            f"{rows:>9,} rows  sqlite3 CLI {result['cli_rows_per_s']:>9,.0f} rows/s"
            f" ({cli['seconds']:.1f} s)  API {result['api_rows_per_s']:>9,.0f} rows/s"
            f" ({api['seconds']:.1f} s, {api['bytes'] / 2**20:.0f} MiB)"
            f"  ratio {result['ratio']:.2f} (target >= 0.5; CPU time ratio"
            f" {result['cpu_ratio']:.2f}: CLI {cli['cpu_seconds']:.1f} s, API worker"
            f" {api['cpu_seconds']:.1f} s)"
            f"  first byte {api['first_byte_seconds']:.2f} s"
            f"  worker RSS idle {api['idle_rss_mb']:.0f} MB, peak {api['peak_rss_mb']:.0f} MB"
            f" (target < 200)",
            flush=True,
        )
    if len(results) > 1:
        growth = results[-1]["api"]["peak_rss_mb"] - results[0]["api"]["peak_rss_mb"]
        print(
            f"peak RSS from {results[0]['rows']:,} to {results[-1]['rows']:,} rows:"
            f" {growth:+.0f} MB"
        )
    (OUT / "bench_export.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
