"""Instructions per request, in process, for hello-world, a returning widget visit and an answer
through the API, by a returning person or a new one (`--kinds hello visit answer answer_new`):
a figure
that the machine's other load does not move (requests per second on a shared 2-core machine
move by a fifth from run to run).

    .venv/bin/python -m bench.bench_instructions      # needs valgrind; about 5 minutes

Each side runs twice under `valgrind --tool=callgrind` with the same warm-up, once with 100 and
once with 500 measured WSGI calls; the difference over 400 is the cost of one request, start-up
and warm-up cancelled out.
"""

from __future__ import annotations

import argparse
import io
import itertools
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_http import prepare, visit_json
from bench.http_load import OUT, hello_app
from service.factory import create_app

WARM_UP, FEW, MANY = 200, 100, 500


def environ(path: str, query: str, body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
    }


def run_requests(kind: str, count: int) -> None:
    """The child's work: warm up both apps, then `count` requests of one kind."""
    tmp = Path(tempfile.mkdtemp(prefix="flywheel-instr-"))
    env, secret, publishable_key, survey = prepare(f"sqlite:///{tmp}/bench.db", tmp / "var")
    app = create_app(env)
    bodies = [visit_json("back", n) for n in range(1, 101)]
    answers = [
        f'{{"survey_id":{survey},"person":{{"external_id":"u-{n}"}},"score":{n % 11}}}'.encode()
        for n in range(1, 101)
    ]
    # A new person with every answer: no body repeats.
    numbers = itertools.count(1)
    newcomers = [
        lambda _: (
            f'{{"survey_id":{survey},"person":{{"external_id":"new-{next(numbers)}"}},"score":7}}'
        ).encode()
    ]
    calls = {
        "visit": (app, "/w/v1/visits", f"key={publishable_key}", bodies, "200"),
        "hello": (hello_app, "/hello", "", bodies, "200"),
        "answer": (app, "/api/v1/responses", "", answers, "201"),
        "answer_new": (app, "/api/v1/responses", "", newcomers, "201"),
    }

    def call(name: str, i: int) -> None:
        wsgi, path, query, payloads, expected = calls[name]
        status = []
        payload = payloads[i % len(payloads)]
        env = environ(path, query, payload(i) if callable(payload) else payload)
        if name.startswith("answer"):
            env["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        answer = wsgi(env, lambda s, h, e=None: status.append(s))
        b"".join(answer)
        assert status[0].startswith(expected), status
        getattr(answer, "close", lambda: None)()

    for i in range(WARM_UP):
        call(kind, i)
        call("hello", i)
    for i in range(count):
        call(kind, i)
    shutil.rmtree(tmp, ignore_errors=True)


def instructions(kind: str, count: int) -> int:
    # Each run takes about a minute under valgrind: say what is running.
    print(f"callgrind: {kind}, {count} requests after the warm-up ...", flush=True)
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.bench_instructions",
            "--child",
            kind,
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--kinds", nargs="+", default=["hello", "visit"])
    args = parser.parse_args()
    if args.child:
        run_requests(args.child[0], int(args.child[1]))
        return
    lines = []
    per_request = {}
    kinds = ["hello", *(k for k in args.kinds if k != "hello")]
    for kind in kinds:
        per_request[kind] = (instructions(kind, MANY) - instructions(kind, FEW)) / (MANY - FEW)
        lines.append(f"{kind:<10} {per_request[kind] / 1000:8.0f}k instructions per request")
    for kind in kinds[1:]:
        lines.append(f"hello-world / {kind} = {per_request['hello'] / per_request[kind]:.2f}")
    print("\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_instructions.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
