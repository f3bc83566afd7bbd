"""A preflight's evidence, made whole and private before anything is claimed or signed.

After the pytest child ends, ``opscheck preflight`` seals the run directory in this order:

1. ``pytest.log`` (the child's output, each line masked as it arrived with the secrets this process knew) is
   masked again with every secret of the run, the child's too: it hands them over a pipe when it ends;
2. the child's result files are checked whole: ``junit.xml`` and ``cucumber.json`` parse, every Allure result
   parses (a full disk truncates files, and a truncated file hashes as well as a whole one);
3. ``html/allure.html`` is rendered: when the Allure CLI is installed it must be there;
4. every file is made private to its owner and group (0640, folders 0750);
5. ``results.sha256`` lists every file but the claim, each one fsync'd; then
6. the claim: ``verdict.json`` naming the manifest's digest (``results_sha256``), then ``html/index.html``.

Only then is the run signed, so the sign-off is its last write. Any ``OSError`` on the way (ENOSPC, EIO, …) or a
file that is not whole is an ``EvidenceError``: the run ends in one line and exit 2, and is never signed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops_checks.catalogue import runbook_text
from ops_checks.core.redaction import SECRETS_FD_ENV, Redactor, scrub_tree
from ops_checks.core.settings import NON_THRESHOLD_VARS
from ops_checks.procedures.signoff import KEY_ENV
from ops_checks.report import html as report
from ops_checks.report import signoff_page
from ops_checks.sandbox import postgres
from ops_checks.target.config import SECRET_VARS
from ops_checks.verdict import verdict

PRIVATE_UMASK = 0o027  # a run's folders 0750 and files 0640 at most: nothing in them is world-readable
DIR_MODE, FILE_MODE = 0o750, 0o640
SET_ASIDE = "verdict.incomplete.json"  # an unsigned run's verdict.json when its evidence is not whole
_MAX_HANDOVER = 16 * 1024 * 1024
# sandbox.environment.OVERRIDE_PREFIX: the sandbox's fixed secrets (importing that module would load the whole
# sandbox into the CLI process; tests/test_evidence.py checks the two agree)
OVERRIDE_PREFIX = "OPSCHECK_SANDBOX_"
_ERROR_LINE = re.compile(r"\b\w*(?:Error|Exception|Interrupt)\b: .*")


class EvidenceError(Exception):
    """The run's evidence could not be written whole; ``str()`` is one line naming the file and the reason."""


def private_umask() -> None:
    """What this process and its children create is not world-readable (an operator's stricter umask stays)."""
    os.umask(os.umask(0) | PRIVATE_UMASK)


def run_redactor() -> Redactor:
    """Every secret this process knows before the run: the targets it built (a live env file's secrets), the
    secrets in its environment, the sandbox's overrides and the sign-off key."""
    redactor = Redactor.everything_known()
    names = (
        *SECRET_VARS,
        *(OVERRIDE_PREFIX + n for n in SECRET_VARS),
        KEY_ENV,
        postgres.DSN_ENV,
        *(n for n in NON_THRESHOLD_VARS if n.endswith("_DSN")),
    )
    for name in names:
        redactor.register(os.environ.get(name))
    return redactor


class SecretsPipe:
    """The child's secrets, handed over a pipe when it ends (never through a file): read as it writes them."""

    def __init__(self) -> None:
        self._read, self.write_fd = os.pipe()
        self._data = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def env(self) -> dict[str, str]:
        return {SECRETS_FD_ENV: str(self.write_fd)}

    def _drain(self) -> None:
        with os.fdopen(self._read, "rb") as pipe:
            while chunk := pipe.read(65536):
                if len(self._data) < _MAX_HANDOVER:
                    self._data += chunk

    def receive(self, redactor: Redactor, timeout_s: float = 5.0) -> Redactor | None:
        """Register what the child handed over (nothing, if it was killed before it could) with ``redactor``.
        Returns a redactor of the secrets the child did not know (None: none), which its files may still hold."""
        with contextlib.suppress(OSError):
            os.close(self.write_fd)  # normally closed once the child started
        self._reader.join(timeout_s)
        try:
            values = json.loads(bytes(self._data)) if self._data and not self._reader.is_alive() else []
        except ValueError:
            values = []
        theirs = {v for v in values if isinstance(v, str)} if isinstance(values, list) else set()
        unseen = [v for v in redactor.known() if v not in theirs]
        for value in theirs:
            redactor.register(value)
        return Redactor(unseen) if unseen else None


def finish_log(path: Path, redactor: Redactor, log_error: str | None) -> str | None:
    """Mask ``pytest.log`` with every secret of the run; a log that could not be written whole is removed (it may
    hold what only the child knew). Returns why the log is not part of the evidence, or None."""
    if log_error is not None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return f"{verdict.LOG_FILE}: {log_error.rsplit(': ', 1)[-1]}"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        write_synced(path, redactor.text(text))
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return f"{verdict.LOG_FILE}: {exc.strerror or exc}"
    return None


def last_error(path: Path) -> str:
    """The last error line of ``pytest.log`` (e.g. an INTERNALERROR's ``OSError: [Errno 28] …``), or ""."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        m = _ERROR_LINE.search(line)
        if m:
            return m.group(0)[:200]
    return ""


def read_verdict(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / verdict.VERDICT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvidenceError(f"{verdict.VERDICT_FILE} unreadable: {_why(exc)}") from None
    if not isinstance(data, dict) or "verdict" not in data or "items" not in data:
        raise EvidenceError(f"{verdict.VERDICT_FILE} is not a whole verdict")
    return data


@dataclass
class Sealed:
    page: Path | None = None  # html/index.html
    allure_href: str | None = None
    notes: list[str] = field(default_factory=list)  # to show with the verdict (e.g. the Allure CLI is missing)


def seal(
    run_dir: Path,
    result: dict[str, Any],
    *,
    target: str,
    html: bool,
    log_problem: str | None,
    unseen: Redactor | None = None,
) -> Sealed:
    """Steps 2–6 of the module's order; ``result`` gets the manifest's digest. ``unseen``: secrets the child did
    not know (it masked its files with its own), masked in its files here. Raises EvidenceError."""
    if log_problem is not None:
        raise EvidenceError(log_problem)
    sealed = Sealed()
    step = "the result files"
    try:
        for path in run_dir.iterdir() if unseen is not None else ():
            if path.name != verdict.LOG_FILE:  # masked with every secret already
                scrub_tree(path, unseen)
        check_results(run_dir)
        if html:
            step = "html/allure.html"
            sealed.allure_href = _render_allure(run_dir, target, sealed.notes, result)
        step = "the run's file modes"
        restrict(run_dir)
        step = verdict.MANIFEST
        result["results_sha256"] = verdict.results_digest(
            run_dir, exclude=(*verdict.CLAIM, verdict.MANIFEST), sync=True
        )
        os.chmod(run_dir / verdict.MANIFEST, FILE_MODE)
        result.pop("manifest_sha256", None)
        step = verdict.VERDICT_FILE
        sealed.page = write_claim(run_dir, result, html=html, allure_href=sealed.allure_href)
        step = "the run's folders"
        for folder in (run_dir / "allure-results", run_dir / "html", run_dir):
            if folder.is_dir():
                _sync_dir(folder)
    except OSError as exc:
        raise EvidenceError(f"{step}: {exc.strerror or exc}") from None
    return sealed


def write_claim(run_dir: Path, result: dict[str, Any], *, html: bool, allure_href: str | None) -> Path | None:
    """verdict.json, then the sign-off page that shows it (both name the manifest's digest)."""
    verdict.write(run_dir, result)
    os.chmod(run_dir / verdict.VERDICT_FILE, FILE_MODE)
    if not html:
        return None
    page = run_dir / verdict.PAGE
    page.parent.mkdir(mode=DIR_MODE, exist_ok=True)
    write_synced(page, signoff_page.render(result, allure_href=allure_href))
    os.chmod(page, FILE_MODE)
    return page


def check_results(run_dir: Path) -> None:
    """The child's result files are whole: JUnit XML and Cucumber JSON parse, and every Allure result parses."""
    junit, cucumber, allure = run_dir / "junit.xml", run_dir / "cucumber.json", run_dir / "allure-results"
    try:
        ET.parse(junit)  # noqa: S314 - our own pytest's output
    except (OSError, ET.ParseError) as exc:
        raise EvidenceError(f"junit.xml not written whole: {_why(exc)}") from None
    try:
        json.loads(cucumber.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvidenceError(f"cucumber.json not written whole: {_why(exc)}") from None
    results = sorted(allure.glob("*-result.json")) if allure.is_dir() else []
    if not results:
        raise EvidenceError("allure-results holds no result")
    for path in [*results, *allure.glob("*-container.json")]:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"allure-results/{path.name} not written whole: {_why(exc)}") from None


def _render_allure(run_dir: Path, target: str, notes: list[str], result: dict[str, Any]) -> str | None:
    """``html/allure.html``, the Allure evidence the sign-off page links to, named by the verdict (its overview
    shows the name first); None when Allure is not installed."""
    allure = report.find_allure(runbook_text.checkout_root())
    if allure is None:
        notes.append("Allure report not rendered: Allure CLI not installed (run scripts/install-allure.sh)")
        return None
    html_dir = run_dir / "html"
    history = run_dir.parent / f".history-{target}"
    try:
        report.carry_history(run_dir / "allure-results", history)  # one Allure run: it reads them from there
    except OSError as exc:
        notes.append(f"report history not carried: {exc}")
    try:
        index = report.render_single_file(
            run_dir / "allure-results",
            html_dir,
            allure_bin=allure,
            title=report.report_name({"target": target, **result}),
        )
        index.replace(html_dir / "allure.html")
    except report.ReportError as exc:
        raise EvidenceError(f"html/allure.html not rendered: {exc}") from None
    try:
        report.keep_history(html_dir / "allure.html", history)
    except (report.ReportError, OSError) as exc:
        notes.append(f"report history not kept: {exc}")
    return "allure.html"


def restrict(run_dir: Path) -> None:
    """No file of the run is world-readable, whatever wrote it (the Allure CLI, a copied history): 0750/0640."""
    for path in [run_dir, *run_dir.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o7777
        keep = DIR_MODE if path.is_dir() else FILE_MODE
        if mode & ~keep:
            os.chmod(path, mode & keep)


def set_aside(run_dir: Path) -> str:
    """An unsigned run whose evidence is not whole claims nothing: its verdict.json is renamed (a rename needs no
    space), so no tool (the §3 transition gate, ``serve``) reads it as a verdict. Returns a note, or ""."""
    path = run_dir / verdict.VERDICT_FILE
    try:
        if path.exists():
            path.replace(run_dir / SET_ASIDE)
            return f"; its verdict.json is set aside as {SET_ASIDE}"
    except OSError:
        pass
    return ""


def write_synced(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file, fsync'd, then renamed over ``path``: whole or not there."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
