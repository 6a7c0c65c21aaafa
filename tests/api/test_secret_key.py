"""The secret key: generated once into var/ by whichever process starts first, read whole by
all, and refused when empty or short, from the environment or the file."""

from __future__ import annotations

import multiprocessing

import pytest

from service.config import MIN_SECRET_KEY_LENGTH, ConfigError, Settings
from service.factory import create_app

PROCESSES, TRIALS = 8, 20


def _start(var_dir: str, barrier, keys) -> None:
    barrier.wait(timeout=60)
    try:
        keys.put(Settings.from_env({"VAR_DIR": var_dir, "SECRET_KEY": ""}).secret_key)
    except ConfigError as exc:  # what a worker that read a half-written key now says
        keys.put(f"refused: {exc}")


def test_workers_racing_on_a_fresh_var_dir_all_read_the_same_whole_key(tmp_path):
    # As gunicorn starts its workers: several processes at once on a var/ with no key yet.
    ctx = multiprocessing.get_context("fork")
    seen = []
    for trial in range(TRIALS):
        var_dir = str(tmp_path / f"var{trial}")
        barrier, keys = ctx.Barrier(PROCESSES), ctx.Queue()
        workers = [
            ctx.Process(target=_start, args=(var_dir, barrier, keys)) for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        read = [keys.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        seen.append(set(read))
        assert len(set(read)) == 1, (trial, read)
        assert (
            len(read[0]) == 64 and (tmp_path / f"var{trial}" / "secret_key").read_text() == read[0]
        )
        assert sorted(p.name for p in (tmp_path / f"var{trial}").iterdir()) == ["secret_key"]
    assert len(set.union(*seen)) == TRIALS  # a fresh key each time


def test_a_short_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError) as refused:
        create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": "changeme"})
    assert str(refused.value).startswith(
        f"SECRET_KEY is 8 characters long; a secret key needs at least {MIN_SECRET_KEY_LENGTH}."
    )


@pytest.mark.parametrize("content", ["", "\n", "tooshort\n"])
def test_an_empty_or_short_key_file_is_refused(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"VAR_DIR": str(tmp_path), "SECRET_KEY": ""})
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'secret_key'} is {len(content.strip())} characters")
    assert "Delete it to have a new one generated" in message


def test_a_long_enough_key_is_taken_as_it_is(tmp_path):
    key = "k" * MIN_SECRET_KEY_LENGTH
    assert Settings.from_env({"VAR_DIR": str(tmp_path), "SECRET_KEY": key}).secret_key == key
    (tmp_path / "secret_key").write_text(key + "\n")
    assert Settings.from_env({"VAR_DIR": str(tmp_path), "SECRET_KEY": ""}).secret_key == key
