"""Issue 21: evidence before claims, and nothing a run leaves is readable by the world.

- ``supervise.run``: a log that cannot be written (``/dev/full``) neither stalls nor stops the child, and every
  line passes the redactor before it reaches the log or the screen.
- ``cli/evidence.py``: result files that are not whole are refused; the manifest lists every file, the claim in its
  canonical form (issue 22, ``verdict.seal``), and the claim's seal names the manifest's digest; folders 0750 and
  files 0640 at most.
- ``opscheck preflight`` with a stand-in child (a few lines of Python in place of the pytest run, so each case
  takes a fraction of a second): the sign-off is called only once every file is on disk and in the manifest; the
  row goes into the seal before it is committed, and nothing is written after; an OSError on the way, a truncated
  result file or a missing verdict is exit 2 with one line, never a traceback, and no sign-off; a secret only the
  child knew, handed over its pipe, is masked in pytest.log.
- A real sandbox preflight, signed, on a 2 MB tmpfs (else under a file-size limit): exit 2, one line, not signed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ops_checks.cli import app as cli_app
from ops_checks.cli import evidence, supervise
from ops_checks.cli import signoff as cli_signoff
from ops_checks.core.redaction import MASK, Redactor
from ops_checks.procedures import signoff
from ops_checks.verdict import verdict
from tests.preflight_runner import REPO

CHILD_SECRET = "ChLd7qTz2mXr9WnB4pLk8sYc"  # known to the stand-in child only: it hands it over its pipe
PARENT_SECRET = "PrNt5kWq8zXm2TbL7nRc4dYh"  # in the CLI's environment (GRAFANA_TOKEN): the child never registers it

# The stand-in for the pytest run: writes the result files (some of them broken, on request), prints a line with
# its own secret and an error, and hands that secret to the CLI over the pipe the CLI gave it.
CHILD = r"""
import json, os, pathlib, sys
run, src = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
broken = os.environ.get("FAKE_BROKEN", "")
secret = os.environ["FAKE_CHILD_SECRET"]
print("@@opscheck phase checking 1 items against the sandbox", flush=True)
print(f"the child's own secret: {secret}", flush=True)
if broken == "no-verdict":
    for n in range(20):
        print(f"INTERNALERROR>   File \"x.py\", line {n}, in f", flush=True)
    print("INTERNALERROR> OSError: [Errno 28] No space left on device", flush=True)
else:
    parents = os.environ.get("GRAFANA_TOKEN", "")  # a secret the CLI knows and this child does not hand over
    junit = f'<?xml version="1.0"?><testsuites><testsuite name="x" tests="1"><testcase name="a {parents}"/></testsuite>'
    (run / "junit.xml").write_text(junit if broken == "junit" else junit + "</testsuites>")
    (run / "cucumber.json").write_text('[{"a": ' if broken == "cucumber" else "[]")
    (run / "allure-results").mkdir()
    (run / "allure-results" / "a-result.json").write_text('{"name": "1.1.1", "status": "passed"}')
    (run / "verdict.json").write_text(src.read_text())
fd = int(os.environ["OPSCHECK_SECRETS_FD"])
os.write(fd, json.dumps([secret]).encode())
os.close(fd)
"""


def one_item_verdict() -> dict[str, Any]:
    now = datetime.now(UTC)
    items = [verdict.outcome("1.1.1", verdict.PASSED, "", "sandbox")]
    return verdict.build(items, target="sandbox", started_at=now, finished_at=now, operator="A", witness="B")


@pytest.fixture
def umask_kept() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_kept: None) -> dict[str, Any]:
    """``opscheck preflight`` whose child is CHILD; its sign-off records what it found on disk when called."""
    source = tmp_path / "verdict-source.json"
    source.write_text(json.dumps(one_item_verdict()))

    def argv(run_dir: Path, **_: object) -> list[str]:
        return [sys.executable, "-c", CHILD, str(run_dir), str(source)]

    monkeypatch.setattr(cli_app, "pytest_argv", argv)
    monkeypatch.setenv("FAKE_CHILD_SECRET", CHILD_SECRET)
    monkeypatch.setenv("GRAFANA_TOKEN", PARENT_SECRET)
    seen: dict[str, Any] = {"calls": 0}

    def record_after_run(
        result: dict[str, Any], *, run_id: str, before_commit: Any = None, **_: object
    ) -> tuple[dict[str, Any], str]:
        run_dir = tmp_path / "reports" / run_id
        seen["calls"] += 1
        seen["manifest_ok"] = manifest_problems(run_dir) == []
        seen["listed"] = listed(run_dir)
        seen["before"] = json.loads((run_dir / "verdict.json").read_text())
        seen["result_hash"] = result.get("results_sha256")
        ledger = signoff.LedgerId("db", "1", None)
        before_commit(signoff.Signed(7, "f" * 64, ledger, signoff.GENESIS, "2025-01-01T00:00:00.000000+00:00"))
        seen["claim"] = json.loads((run_dir / "verdict.json").read_text())  # as it is when the row is committed
        seen["snapshot"] = snapshot(run_dir)
        return result, "sign-off recorded: ledger row 7 (stand-in)"

    monkeypatch.setattr(cli_signoff, "record_after_run", record_after_run)
    return seen


def run_cli(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli_app.app,
        [
            "preflight",
            "--no-html",
            "-q",
            "--reports",
            str(tmp_path / "reports"),
            "--operator",
            "A",
            "--witness",
            "B",
            *args,
        ],
    )


def the_run(tmp_path: Path) -> Path:
    return next(p for p in (tmp_path / "reports").iterdir() if not p.name.startswith("."))


def listed(run_dir: Path) -> set[str]:
    """The manifest's paths, relative to the run (each is written ``<run-id>/<path>``)."""
    names = [line.split("  ", 1)[1] for line in (run_dir / "results.sha256").read_text().splitlines()]
    assert all(n.startswith(run_dir.name + "/") for n in names), names
    return {n.split("/", 1)[1] for n in names}


def manifest_problems(run_dir: Path) -> list[str]:
    """What ``cd <reports> && sha256sum -c <run>/results.sha256`` would complain about, verdict.json with its seal
    line put back to the placeholder (README)."""
    problems = []
    for line in (run_dir / "results.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        path = run_dir.parent / name
        data = path.read_bytes() if path.is_file() else b""
        if name.endswith("/verdict.json"):
            data = re.sub(rb'(?m)^  "results_sha256": .*$', b'  "results_sha256": "sealed", "signoff": "sealed"', data)
        if not path.is_file() or hashlib.sha256(data).hexdigest() != digest:
            problems.append(name)
    return problems


def snapshot(run_dir: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(run_dir).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in run_dir.rglob("*")
        if p.is_file()
    }


# -- supervise -----------------------------------------------------------------------------------------------------
def test_a_log_that_cannot_be_written_neither_stalls_nor_stops_the_child(tmp_path: Path) -> None:
    lines: list[str] = []
    code = "import sys\nfor n in range(20000): print(f'line {n} s3cr3t-Kq82nTzLm4')\n"  # ~600 KB: many pipe-fulls
    out = supervise.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        timeout_s=60,
        on_line=lines.append,
        log_path=Path("/dev/full"),
        redact=Redactor(["s3cr3t-Kq82nTzLm4"]).text,
    )
    assert out.returncode == 0 and not out.timed_out
    assert out.log_error is not None and "No space left on device" in out.log_error
    assert len(lines) == 20000 and lines[-1] == f"line 19999 {MASK}"


# -- cli/evidence --------------------------------------------------------------------------------------------------
def result_files(run_dir: Path) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "junit.xml").write_text('<?xml version="1.0"?><testsuites/>')
    (run_dir / "cucumber.json").write_text("[]")
    (run_dir / "allure-results").mkdir()
    (run_dir / "allure-results" / "a-result.json").write_text("{}")
    (run_dir / "pytest.log").write_text("log\n")
    for p in [run_dir, *run_dir.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)  # as a careless writer would leave them


def test_seal_lists_the_evidence_then_writes_the_claim_naming_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result_files(run_dir)
    result = one_item_verdict()
    evidence.seal(run_dir, result, target="sandbox", html=False, log_problem=None, unsigned="no reason")
    assert listed(run_dir) == {
        "junit.xml",
        "cucumber.json",
        "allure-results/a-result.json",
        "pytest.log",
        "verdict.json",
    }
    assert manifest_problems(run_dir) == []
    claim = json.loads((run_dir / "verdict.json").read_text())
    assert claim["results_sha256"] == hashlib.sha256((run_dir / "results.sha256").read_bytes()).hexdigest()
    assert claim["signoff"] == {"signed": False, "why": "no reason"} and "manifest_sha256" not in claim
    for p in [run_dir, *run_dir.rglob("*")]:
        assert p.stat().st_mode & 0o027 == 0, f"{p} is {oct(p.stat().st_mode)}"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("junit.xml", "<testsuites><testsuite"),
        ("cucumber.json", '[{"a"'),
        ("allure-results/a-result.json", '{"name": '),
    ],
)
def test_a_truncated_result_file_is_refused(tmp_path: Path, name: str, content: str) -> None:
    run_dir = tmp_path / "run"
    result_files(run_dir)
    (run_dir / name).write_text(content)
    with pytest.raises(evidence.EvidenceError, match=name.split("/")[0]):
        evidence.seal(run_dir, one_item_verdict(), target="sandbox", html=False, log_problem=None)
    assert not (run_dir / "verdict.json").exists()


def test_an_oserror_while_sealing_is_an_evidence_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    result_files(run_dir)

    def full(*_: object, **__: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verdict, "results_digest", full)
    with pytest.raises(evidence.EvidenceError, match=r"results.sha256: No space left on device"):
        evidence.seal(run_dir, one_item_verdict(), target="sandbox", html=False, log_problem=None)
    # the claim written so far names no hash (the CLI sets it aside: see the stand-in cases below)
    assert json.loads((run_dir / "verdict.json").read_text())["results_sha256"] is None


# -- opscheck preflight with a stand-in child ---------------------------------------------------------------------
def test_the_sign_off_comes_last_after_every_file_is_listed(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    r = run_cli(tmp_path)
    assert r.exit_code == 0, r.output
    run_dir = the_run(tmp_path)
    assert stand_in["calls"] == 1 and stand_in["manifest_ok"]
    files = {"junit.xml", "cucumber.json", "allure-results/a-result.json", "pytest.log", "verdict.json"}
    assert stand_in["listed"] == files
    digest = hashlib.sha256((run_dir / "results.sha256").read_bytes()).hexdigest()
    assert stand_in["claim"]["results_sha256"] == stand_in["result_hash"] == digest  # what was signed is on disk
    assert stand_in["before"]["signoff"]["signed"] is False  # until the row exists …
    assert stand_in["claim"]["signoff"]["ledger_row"] == 7  # … which is in the seal before it is committed
    assert snapshot(run_dir) == stand_in["snapshot"]  # nothing was written after the sign-off
    assert manifest_problems(run_dir) == []
    log = (run_dir / "pytest.log").read_text()
    assert "the child's own secret: " + MASK in log and CHILD_SECRET not in log
    junit = (run_dir / "junit.xml").read_text()  # what the child wrote with a secret only the CLI knew
    assert f'name="a {MASK}"' in junit and PARENT_SECRET not in junit
    for p in [run_dir, *run_dir.rglob("*")]:
        assert p.stat().st_mode & 0o027 == 0, f"{p} is {oct(p.stat().st_mode)}"


@pytest.mark.parametrize("broken", ["junit", "cucumber"])
def test_a_truncated_result_file_is_exit_2_and_never_signed(
    tmp_path: Path, stand_in: dict[str, Any], broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BROKEN", broken)
    r = run_cli(tmp_path)
    assert r.exit_code == 2, r.output
    assert stand_in["calls"] == 0
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1, r.output
    assert f"{broken}" in r.stderr and "not signed" in r.stderr
    run_dir = the_run(tmp_path)
    assert not (run_dir / "verdict.json").exists() and (run_dir / evidence.SET_ASIDE).exists()


def test_a_full_disk_while_sealing_is_exit_2_and_never_signed(
    tmp_path: Path, stand_in: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: object, **__: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verdict, "results_digest", full)
    r = run_cli(tmp_path)
    assert r.exit_code == 2 and stand_in["calls"] == 0, r.output
    assert len(r.stderr.splitlines()) == 1 and "No space left on device" in r.stderr and "not signed" in r.stderr


def test_no_verdict_is_one_line_without_the_traceback(
    tmp_path: Path, stand_in: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BROKEN", "no-verdict")
    r = run_cli(tmp_path)
    assert r.exit_code == 2 and stand_in["calls"] == 0, r.output
    assert len(r.stderr.splitlines()) == 1 and "INTERNALERROR" not in r.stderr and 'File "x.py"' not in r.output
    assert "no verdict: OSError: [Errno 28] No space left on device" in r.stderr
    assert CHILD_SECRET not in (the_run(tmp_path) / "pytest.log").read_text()


# -- a real signed sandbox preflight on a full disk ---------------------------------------------------------------
@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Any]:
    """A tmpfs of ``size`` at ``where`` (root), else a file-size limit for the run (its writes fail past it)."""
    where.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield None
        finally:
            subprocess.run(["umount", "-l", str(where)], check=False)
        return

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    yield limit


@pytest.mark.slow
def test_a_signed_run_on_a_full_disk_is_exit_2_one_line_and_not_signed(
    tmp_path: Path, shared_pg_env: dict[str, str]
) -> None:
    reports = tmp_path / "small"
    with small_disk(reports, "2m") as preexec:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ops_checks.cli",
                "preflight",
                "-q",
                "--reports",
                str(reports / "reports"),
                "--operator",
                "A. Operator",
                "--witness",
                "B. Witness",
            ],
            cwd=REPO,
            env=shared_pg_env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=preexec,
        )
        runs = list((reports / "reports").glob("2*"))
        left = {p.name for p in runs[0].iterdir()} if runs else set()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "not signed" in proc.stderr or "no verdict" in proc.stderr
    assert "Traceback" not in proc.stderr and "INTERNALERROR" not in proc.stderr and "sign-off" not in proc.stderr
    assert "verdict.json" not in left  # nothing claims a verdict the evidence cannot back


def test_the_cli_reads_the_sandboxs_fixed_secrets_by_the_sandboxs_prefix() -> None:
    from ops_checks.sandbox.environment import OVERRIDE_PREFIX

    assert evidence.OVERRIDE_PREFIX == OVERRIDE_PREFIX
