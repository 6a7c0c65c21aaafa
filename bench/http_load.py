"""HTTP load machinery: gunicorn on a free loopback port with our `gunicorn.conf.py`, a
hello-world Flask app as the baseline, and wrk (with a Lua script for POST bodies) parsed.

`hello_app` is what the baseline gunicorn serves: `bench.http_load:hello_app`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from service.logs import redact

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
GUNICORN = Path(sys.executable).with_name("gunicorn")
WRK = shutil.which("wrk") or "/usr/bin/wrk"

hello_app = Flask("hello")


@hello_app.route("/hello", methods=["GET", "POST"])
def hello():
    return {"hello": "world"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    app_spec: str,
    env: dict[str, str],
    log_name: str,
    ready_path: str = "/hello",
    ready_seconds: float = 60,
):
    """Run `gunicorn -c gunicorn.conf.py app_spec` on a free port; yields its base URL once
    `ready_path` answers (within `ready_seconds`: a loaded machine boots workers slowly)."""
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / f"{log_name}.gunicorn.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), app_spec],
        cwd=ROOT,
        env={**os.environ, **env, "BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_seconds
        while True:
            try:
                urllib.request.urlopen(base + ready_path, timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors

    def line(self, name: str) -> str:
        return (
            f"{name:<30} {self.requests_per_second:>7.0f} req/s"
            f"  p50 {self.latency_p50_ms:>6.1f} ms  p99 {self.latency_p99_ms:>6.1f} ms"
            f"  ({self.requests} requests, {self.errors} errors)"
        )


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT[unit]


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return WrkResult(rps, p50, p99, total, errors)


def wrk(
    url: str,
    *,
    lua: str | None = None,
    name: str,
    seconds: int = 10,
    connections: int = 16,
    threads: int = 2,
) -> WrkResult:
    """Run wrk against `url` (after a short warm-up) and keep its raw output in bench/out."""
    args = [WRK, f"-t{threads}", f"-c{connections}", "--latency"]
    if lua:
        script = OUT / f"{name}.lua"
        script.write_text(lua)
        args += ["-s", str(script)]
    subprocess.run([*args, "-d2s", url], check=True, capture_output=True, text=True)
    done = subprocess.run([*args, f"-d{seconds}s", url], check=True, capture_output=True, text=True)
    (OUT / f"{name}.wrk.txt").write_text(redact(done.stdout))
    return parse_wrk(done.stdout)


def post_json_lua(body_expression: str, headers: dict[str, str] | None = None) -> str:
    """A wrk script POSTing a JSON body built per request by a Lua expression (it may use
    `math.random`), seeded per thread so threads do not repeat each other."""
    header_lines = "".join(
        f'wrk.headers["{name}"] = "{value}"\n' for name, value in (headers or {}).items()
    )
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"{header_lines}"
        "local counter = 0\n"
        "function setup(thread) counter = counter + 1; thread:set('seed', counter) end\n"
        "function init(args) math.randomseed(os.time() * 100 + (seed or 0)) end\n"
        "function request()\n"
        f"  return wrk.format(nil, nil, nil, {body_expression})\n"
        "end\n"
    )
