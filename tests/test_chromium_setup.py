"""`make test` brings Debian's Chromium (`.ci/chromium`): nothing to do when it is there,
apt-get as root or through a sudo that asks no password, else one line saying what to install.

The script runs with a PATH of stand-ins only (an apt-get that fails or installs, a sudo), so
the machine's own Chromium stays hidden and nothing is installed for real."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash") or "/bin/bash"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
ENV = shutil.which("env") or "/usr/bin/env"
CHMOD = shutil.which("chmod") or "/usr/bin/chmod"
NEED = "make test needs Chromium: run `sudo apt-get install chromium` (Debian) and try again"
NOBODY = 65534
IS_ROOT = os.geteuid() == 0

APT_GET_FAILS = 'echo "apt-get $*" >> "$CALLS"; echo "E: Unable to locate package" >&2; exit 100'
APT_GET_INSTALLS = f"""echo "apt-get $*" >> "$CALLS"
if [ "$1" = install ]; then
  printf '#!{BASH}\\nexit 0\\n' > "$BIN/chromium"; {CHMOD} 755 "$BIN/chromium"
fi"""
SUDO_WITHOUT_PASSWORD = f"""echo "sudo $*" >> "$CALLS"
[ "$1" = -n ] && shift
[ "$1" = true ] && exit 0
[ "$1" = env ] && shift
exec {ENV} "$@\""""
SUDO_ASKS_A_PASSWORD = 'echo "sudo $*" >> "$CALLS"; echo "sudo: a password is required" >&2; exit 1'


class Bin:
    """A folder that is the script's whole PATH, readable and writable by an unprivileged
    user (pytest's own temporary folders are the owner's only)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.calls = folder, folder / "calls"
        self.calls.touch()
        self.calls.chmod(0o666)
        shutil.copy(ROOT / ".ci" / "chromium", folder / "chromium-setup")
        shutil.copy(ROOT / ".ci" / "apt-need", folder / "apt-need")

    def add(self, name: str, body: str) -> None:
        path = self.folder / name
        text = body.replace("$CALLS", str(self.calls)).replace("$BIN", str(self.folder))
        path.write_text(f"#!{BASH}\n{text}\n")
        path.chmod(0o755)

    def run(self, *, as_root: bool) -> subprocess.CompletedProcess[str]:
        command = [BASH, str(self.folder / "chromium-setup")]
        if not as_root and IS_ROOT:
            command = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
            command += [BASH, str(self.folder / "chromium-setup")]
        elif as_root and not IS_ROOT:
            pytest.skip("the root branch runs only when the tests run as root (as in CI)")
        env = {"PATH": str(self.folder)}
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    def called(self) -> list[str]:
        return self.calls.read_text().splitlines()


@pytest.fixture
def bin_dir() -> Iterator[Bin]:
    folder = Path(tempfile.mkdtemp(prefix="chromium-setup-"))
    folder.chmod(stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
    yield Bin(folder)
    shutil.rmtree(folder)


def says_what_to_install(done: subprocess.CompletedProcess[str]) -> bool:
    return done.returncode == 1 and done.stderr.splitlines()[-1:] == [NEED]


def test_nothing_to_do_when_chromium_is_there(bin_dir):
    bin_dir.add("chromium", "exit 0")
    bin_dir.add("apt-get", APT_GET_FAILS)
    done = bin_dir.run(as_root=True)
    assert (done.returncode, done.stdout, done.stderr, bin_dir.called()) == (0, "", "", [])


def test_root_without_apt_get_gets_one_line(bin_dir):
    done = bin_dir.run(as_root=True)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", NEED + "\n")


def test_root_whose_apt_get_fails_gets_the_line_at_once(bin_dir):
    bin_dir.add("apt-get", APT_GET_FAILS)
    done = bin_dir.run(as_root=True)
    assert says_what_to_install(done), done
    assert bin_dir.called() == ["apt-get update -qq"]


def test_root_installs_chromium_with_apt_get(bin_dir):
    bin_dir.add("apt-get", APT_GET_INSTALLS)
    done = bin_dir.run(as_root=True)
    assert (done.returncode, done.stderr) == (0, ""), done
    assert bin_dir.called() == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert (bin_dir.folder / "chromium").exists()


def test_a_user_without_sudo_gets_one_line(bin_dir):
    bin_dir.add("apt-get", APT_GET_INSTALLS)
    done = bin_dir.run(as_root=False)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", NEED + "\n")
    assert bin_dir.called() == []


def test_a_user_whose_sudo_asks_a_password_gets_one_line(bin_dir):
    bin_dir.add("apt-get", APT_GET_INSTALLS)
    bin_dir.add("sudo", SUDO_ASKS_A_PASSWORD)
    done = bin_dir.run(as_root=False)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", NEED + "\n")
    assert bin_dir.called() == ["sudo -n true"]


def test_a_user_with_passwordless_sudo_installs_through_it(bin_dir):
    bin_dir.add("apt-get", APT_GET_INSTALLS)
    bin_dir.add("sudo", SUDO_WITHOUT_PASSWORD)
    done = bin_dir.run(as_root=False)
    assert (done.returncode, done.stderr) == (0, ""), done
    apt = "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get"
    assert bin_dir.called() == [
        "sudo -n true",
        f"{apt} update -qq",
        "apt-get update -qq",
        f"{apt} install -y -qq chromium",
        "apt-get install -y -qq chromium",
    ]


def test_make_test_stops_at_once_without_chromium(bin_dir):
    # The whole of `make test` on a machine with neither Chromium nor apt-get: the line, and
    # nothing else is attempted (no venv, no install).
    (bin_dir.folder / "bash").symlink_to(BASH)
    make = shutil.which("make") or "/usr/bin/make"
    done = subprocess.run(
        [make, "--no-print-directory", "-C", str(ROOT), "test", "VENV=/nonexistent/venv"],
        env={"PATH": str(bin_dir.folder)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.splitlines()[0] == NEED, done.stderr
    assert not Path("/nonexistent/venv").exists()
