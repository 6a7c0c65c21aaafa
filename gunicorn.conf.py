"""gunicorn settings for `make run` and production; override with environment variables."""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "gthread"


def _default_threads() -> int:
    # SQLite lets one connection write at a time, and a writer keeps the file's lock until it
    # commits. With several threads in a worker, the thread holding that lock waits for the GIL
    # each time a SQLite call returns while its siblings run, and the other workers' writers
    # sleep in SQLite's busy handler meanwhile: one thread per worker doubled answers per
    # second on SQLite (BENCHMARKS.md). PostgreSQL has no such lock; its threads serve slow
    # clients and streamed exports without holding up a worker. (One thread serves widget
    # visits about a quarter faster there too, behind a proxy that buffers slow clients.)
    url = os.environ.get("DATABASE_URL") or ""
    return 4 if url.startswith("postgresql") else 1


threads = int(os.environ.get("GUNICORN_THREADS") or _default_threads())
timeout = 60
graceful_timeout = 20
keepalive = 5
# Tokens live in link paths (/r/<token>, /u/<token>, /app/set-password/<token>): the access
# log redacts them.
logger_class = "service.logs.RedactingLogger"
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
# Several instances (benchmarks, nodes) may share a machine: no control socket to collide on.
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001, ANN201 (gunicorn's hook signature)
    # The app is loaded: its modules, mapped classes and prepared statements live as long as
    # the worker. Frozen, they are no longer walked by every full garbage collection, which
    # otherwise grows with all the code a worker has imported.
    gc.freeze()
