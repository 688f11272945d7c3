"""The ``./run`` script's set-up of Debian packages, against fake dpkg and apt.

A fresh machine is where ``./run`` matters most and where it is hardest to
test; these run a copy of the script with ``dpkg-query``, ``apt-get`` and
``sudo`` replaced by small fakes that record what they were asked.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from .conftest import ROOT


def _sandbox(tmp_path: Path, dpkg_state: str, apt_script: str) -> tuple[Path, dict[str, str]]:
    """A copy of ./run whose venv looks set up, and fakes for the Debian tools."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(ROOT / "run", work / "run")
    (work / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    digest = hashlib.sha256((work / "pyproject.toml").read_bytes()).hexdigest()[:16]
    venv = work / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\nexit 0\n")
    (venv / "python").chmod(0o755)
    (work / ".venv" / f".journeymap-{digest}-print").touch()
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "apt-calls"
    scripts = {
        # ${db:Status-Status} is one word; ${Status} three ("install ok installed").
        "dpkg-query": f'#!/bin/sh\ncase "$*" in *db:Status-Status*) printf "{dpkg_state}\\n";;'
        f' *) printf "install ok {dpkg_state}";; esac\n',
        "apt-get": f'#!/bin/sh\necho "$*" >> "{calls}"\n{apt_script}\n',
        "sudo": '#!/bin/sh\nexec "$@"\n',
        "sleep": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "JOURNEYMAP_APT_WAIT": "30"}
    return work, env


def _setup(work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(work / "run"), "setup"], capture_output=True, text=True, env=env, timeout=60
    )


def test_packages_with_pending_triggers_count_as_installed(tmp_path: Path) -> None:
    work, env = _sandbox(tmp_path, "triggers-pending", "exit 1")
    r = _setup(work, env)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "apt-calls").exists()  # nothing to install


def test_it_waits_for_another_apt_to_release_its_lock(tmp_path: Path) -> None:
    # The first two calls find the lock held, as when unattended upgrades run.
    count = tmp_path / "count"
    apt = (
        f'n=$(cat "{count}" 2>/dev/null || echo 0); echo $((n + 1)) > "{count}"\n'
        'if [ "$n" -lt 2 ]; then\n'
        '  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process'
        ' 4242 (unattended-upgr)" >&2; exit 100\nfi\nexit 0'
    )
    work, env = _sandbox(tmp_path, "not-installed", apt)
    r = _setup(work, env)
    assert r.returncode == 0, r.stderr
    assert "waiting for another apt or dpkg to finish" in r.stderr
    calls = (tmp_path / "apt-calls").read_text().splitlines()
    assert ["update" in c.split() for c in calls[:3]] == [True] * 3
    assert "install" in calls[-1] and "chromium" not in calls[-1]  # runtime packages only


def test_the_wait_is_bounded_and_says_why(tmp_path: Path) -> None:
    apt = 'echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100'
    work, env = _sandbox(tmp_path, "not-installed", apt)
    env["JOURNEYMAP_APT_WAIT"] = "20"
    r = _setup(work, env)
    assert r.returncode == 1
    assert "has held its lock for 20s" in r.stderr
    assert len((tmp_path / "apt-calls").read_text().splitlines()) == 3  # 0 s, 10 s, 20 s


def test_other_apt_failures_are_shown_not_waited_on(tmp_path: Path) -> None:
    apt = 'echo "E: Unable to locate package fonts-dejavu-core" >&2; exit 100'
    work, env = _sandbox(tmp_path, "not-installed", apt)
    r = _setup(work, env)
    assert r.returncode == 1
    assert "Unable to locate package" in r.stderr
    assert "waiting" not in r.stderr


def test_a_package_installed_for_one_architecture_of_two_is_installed(tmp_path: Path) -> None:
    # dpkg-query prints one status per architecture the package is known for.
    work, env = _sandbox(tmp_path, "installed\\nnot-installed", "exit 1")
    r = _setup(work, env)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "apt-calls").exists()


def test_apt_is_read_in_english_whatever_the_language(tmp_path: Path) -> None:
    apt = 'echo "LC_ALL=$LC_ALL" >> "$(dirname "$0")/../env-seen"; exit 0'
    work, env = _sandbox(tmp_path, "not-installed", apt)
    env["LANG"] = env["LC_ALL"] = "de_DE.UTF-8"
    assert _setup(work, env).returncode == 0
    assert set((tmp_path / "env-seen").read_text().split()) == {"LC_ALL=C"}
