"""Issue 14: the built wheel runs the whole preflight from any directory, with no repository beside it.

The wheel is built from a copy of the source tree (so no ``build/`` is left in the checkout) and installed with
``--no-deps`` into a fresh virtualenv; its dependencies come from this project's ``.venv`` through a ``.pth`` file
(fast and offline; the venv's own site-packages, holding the wheel, comes first on ``sys.path``, and a ``.pth``
inside an added directory is not executed, so the editable install of the checkout stays inactive). The sandbox
extra's testcontainers is not needed: the run gets this worker's Postgres server (``shared_pg_env``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from ops_checks.catalogue import runbook_text
from tests.repo_copy import NOT_SOURCE, REPO

pytestmark = pytest.mark.slow


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a virtualenv holding the wheel (and nothing of the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=NOT_SOURCE)
    built = _run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp / "dist")], timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp / "dist").glob("ops_checks-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ops_checks/pytest_plugin/features/1_3_safety.feature" in names
    assert "ops_checks/pytest_plugin/steps/test_runbook.py" in names
    assert not [n for n in names if n.startswith(("steps/", "features/", "conftest.py", "pytest.ini"))]

    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--disable-pip-version-check",
            str(wheel),
        ],
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(purelib) / "ops_checks_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run([str(python), "-c", "import ops_checks; print(ops_checks.__file__)"], cwd=tmp, timeout=60)
    assert where.stdout.strip().startswith(purelib), where.stdout + where.stderr  # the wheel's copy, not the repo
    return venv / "bin"


def test_version_from_another_directory(installed: Path, tmp_path: Path) -> None:
    proc = _run([str(installed / "opscheck"), "--version"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("opscheck "), proc.stdout + proc.stderr


def test_preflight_from_another_directory_is_go(installed: Path, tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    env = dict(shared_pg_env)
    env.pop("PYTHONPATH", None)
    runbooks = runbook_text.resolve_dir(cwd=REPO)
    if runbooks.is_dir():
        env[runbook_text.ENV] = str(runbooks)
    else:
        env.pop(runbook_text.ENV, None)
    proc = _run(
        [str(installed / "opscheck"), "preflight", "--no-html", "--reports", "R"], cwd=tmp_path, env=env, timeout=600
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "VERDICT: GO" in proc.stdout, f"runbooks: {runbooks}\n{out[-3000:]}"
    assert ("note: runbook directory not found" in proc.stdout) is not runbooks.is_dir(), out[-3000:]
    assert list((tmp_path / "R").glob("*/verdict.json"))
