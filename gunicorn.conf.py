"""gunicorn settings for `make run` and production; override with environment variables."""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
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
