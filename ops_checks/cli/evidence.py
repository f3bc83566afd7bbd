"""A preflight's evidence, made whole and private before anything is claimed or signed; then sealed.

After the pytest child ends, ``opscheck preflight`` seals the run directory in this order:

1. ``pytest.log`` (the child's output, each line masked as it arrived with the secrets this process knew) is
   masked again with every secret of the run, the child's too: it hands them over a pipe when it ends;
2. the child's result files are checked whole: ``junit.xml`` and ``cucumber.json`` parse, every Allure result
   parses (a full disk truncates files, and a truncated file hashes as well as a whole one);
3. ``html/allure.html`` is rendered: when the Allure CLI is installed it must be there;
4. every file is made private to its owner and group (0640, folders 0750);
5. the claim: ``verdict.json`` (with the system checked) and ``html/index.html`` (that system, each item's
   runbook row), each with its seal line still empty;
6. ``results.sha256`` lists every file of the run, the claim in its canonical form (``verdict.seal``), each one
   fsync'd: its SHA-256 is the run's hash, ``results_sha256``;
7. the seal lines of ``verdict.json`` and ``html/index.html`` get that hash and "not signed" with the reason.

Only then is the run signed (live, ``--operator`` and ``--witness``): the ledger row is inserted, its id and head
hash are written into both seal lines and fsync'd, and only then is the row committed, so the commit is the run's
last write. A seal line that cannot be written rolls the row back. Any ``OSError`` on the way (ENOSPC, EIO, …) or a
file that is not whole is an ``EvidenceError``: the run ends in one line and exit 2, and is never signed. A sign-off
that fails (no ledger, a refused insert) makes the run NO-GO: it is sealed again (steps 5–7) saying why it is not
signed. ``opscheck evidence verify`` (``cli/evidence_verify.py``) checks all of it from any directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ops_checks import __version__
from ops_checks.access.config import SECRET_VARS, live_target, load_env
from ops_checks.catalogue import BY_ID, runbook_text
from ops_checks.core.redaction import SECRETS_FD_ENV, Redactor, scrub_tree
from ops_checks.core.settings import NON_THRESHOLD_VARS
from ops_checks.procedures.signoff import KEY_ENV, Signed
from ops_checks.report import html as report
from ops_checks.report import signoff_page
from ops_checks.sandbox import postgres
from ops_checks.verdict import seal as seal_format
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
    quotes: dict[str, str] = field(default_factory=dict)  # item id -> the runbook row it implements


def seal(
    run_dir: Path,
    result: dict[str, Any],
    *,
    target: str,
    html: bool,
    log_problem: str | None,
    unseen: Redactor | None = None,
    identity: dict[str, Any] | None = None,
    quotes: dict[str, str] | None = None,
    unsigned: str = "no sign-off was asked for",
) -> Sealed:
    """Steps 2–7 of the module's order; ``result`` gets the run's hash and its ``signoff`` ("not signed" and
    ``unsigned``, the reason). ``unseen``: secrets the child did not know (it masked its files with its own), masked
    in its files here. ``identity``: the system checked (``target_identity``). Raises EvidenceError."""
    if log_problem is not None:
        raise EvidenceError(log_problem)
    sealed = Sealed(quotes=dict(quotes or {}))
    step = "the result files"
    try:
        if unseen is not None:
            for path in run_dir.iterdir():
                if path.name != verdict.LOG_FILE:  # masked with every secret already
                    scrub_tree(path, unseen)
        check_results(run_dir)
        if html:
            step = "html/allure.html"
            sealed.allure_href = _render_allure(run_dir, target, sealed.notes, result)
        step = "the run's file modes"
        restrict(run_dir)
    except OSError as exc:
        raise EvidenceError(f"{step}: {exc.strerror or exc}") from None
    if identity is not None:
        result["target_identity"] = identity
    reseal(run_dir, result, sealed, html=html, unsigned=unsigned)
    return sealed


def reseal(run_dir: Path, result: dict[str, Any], sealed: Sealed, *, html: bool, unsigned: str) -> None:
    """Steps 5–7: the claim, the manifest over every file, the seal lines naming its hash and "not signed" with
    ``unsigned``, the reason. Also what a run whose sign-off failed does again (its verdict changed to NO-GO)."""
    result.pop("manifest_sha256", None)
    result["results_sha256"] = None
    result["signoff"] = {"signed": False, "why": unsigned}
    step = verdict.VERDICT_FILE
    try:
        sealed.page = write_claim(run_dir, result, html=html, allure_href=sealed.allure_href, quotes=sealed.quotes)
        step = verdict.MANIFEST
        result["results_sha256"] = verdict.results_digest(run_dir, exclude=(verdict.MANIFEST,), sync=True)
        os.chmod(run_dir / verdict.MANIFEST, FILE_MODE)
        step = "the seal"
        write_seal(run_dir, result, html=html)
    except OSError as exc:
        raise EvidenceError(f"{step}: {exc.strerror or exc}") from None
    except seal_format.SealError as exc:
        raise EvidenceError(f"the seal: {exc}") from None


def write_claim(
    run_dir: Path,
    result: dict[str, Any],
    *,
    html: bool,
    allure_href: str | None,
    quotes: dict[str, str] | None = None,
) -> Path | None:
    """verdict.json, then the sign-off page that shows it, each with its seal line as ``result`` has it."""
    verdict.write(run_dir, result)
    os.chmod(run_dir / verdict.VERDICT_FILE, FILE_MODE)
    if not html:
        return None
    page = run_dir / verdict.PAGE
    page.parent.mkdir(mode=DIR_MODE, exist_ok=True)
    write_synced(page, signoff_page.render(result, allure_href=allure_href, quotes=quotes))
    os.chmod(page, FILE_MODE)
    return page


def write_seal(run_dir: Path, result: dict[str, Any], *, html: bool) -> None:
    """Only the seal lines of verdict.json and the page (their canonical form, and so the manifest, unchanged) get
    ``result``'s hash and sign-off; each file and its folder fsync'd. Raises OSError or SealError."""
    lines = {verdict.VERDICT_FILE: seal_format.json_seal_line(result["results_sha256"], result.get("signoff"))}
    if html:
        lines[verdict.PAGE] = signoff_page.seal_line(result)
    for rel, line in lines.items():
        path = run_dir / rel
        write_synced(path, seal_format.replace_seal_line(path.read_text(encoding="utf-8"), rel, line))
        os.chmod(path, FILE_MODE)
    for folder in (run_dir / "allure-results", run_dir / "html", run_dir):
        if folder.is_dir():
            _sync_dir(folder)


def signing(run_dir: Path, result: dict[str, Any], *, html: bool) -> Callable[[Signed], None]:
    """``signoff.record``'s ``before_commit``: the new row's id and head hash into both seal lines, on disk before
    the row is committed. A seal line that cannot be written is an EvidenceError, and the row is rolled back."""

    def before_commit(signed: Signed) -> None:
        result["signoff"] = signed.as_json()
        try:
            write_seal(run_dir, result, html=html)
        except OSError as exc:
            raise EvidenceError(f"the seal (sign-off rolled back): {exc.strerror or exc}") from None
        except seal_format.SealError as exc:
            raise EvidenceError(f"the seal (sign-off rolled back): {exc}") from None

    return before_commit


def unsigned_reason(result: dict[str, Any], *, target: str, operator: str | None, witness: str | None) -> str:
    """Why the run is (not yet) signed, as its seal says until a sign-off replaces it."""
    if not (operator and witness):
        return "no --operator and --witness were given"
    if result.get("verdict") == verdict.PARTIAL:
        return "a PARTIAL run (a selection of items) is never signed"
    if target != "live":
        return "a sandbox run is never signed (its database is thrown away)"
    return "the sign-off did not complete"


SANDBOX_SYSTEM = (
    "the sandbox: a throwaway database, the reference bot and the simulators, started for this run and gone with it"
)


def target_identity(target: str, env_file: Path | None, runbook_dir: Path) -> dict[str, Any]:
    """The system a run checks, as its claim records it: for live the bot URL (without any user:password), the
    database host, port, name and role, the env file and its SHA-256; always the suite's version and the runbooks
    quoted (each file's SHA-256). Raises ConfigError or OSError (an env file that cannot be read)."""
    ident: dict[str, Any] = {"kind": target, "suite_version": __version__, "runbook_dir": str(runbook_dir)}
    ident["runbooks"] = {
        name: hashlib.sha256((runbook_dir / name).read_bytes()).hexdigest()
        for name in sorted(runbook_text.FILES.values())
        if (runbook_dir / name).is_file()
    }
    if target != "live":
        return ident | {"system": SANDBOX_SYSTEM}
    t = live_target(load_env(env_file), allow_mutations=False)
    return ident | {
        "bot_url": public_url(t.bot_api_url),
        "db_host": t.db.host,
        "db_port": t.db.port,
        "db_name": t.db.name,
        "db_role": t.db.user,
        "env_file": str(env_file.resolve()) if env_file is not None else None,
        "env_sha256": hashlib.sha256(env_file.read_bytes()).hexdigest() if env_file is not None else None,
    }


def public_url(raw: str) -> str:
    """``raw`` without user:password, query or fragment: what a report may show of a URL."""
    try:
        url = urlsplit(raw)
        port = url.port
    except ValueError:
        return "(not a URL)"
    if not url.scheme or not url.hostname:
        return "(not a URL)"
    host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
    return urlunsplit((url.scheme, host + (f":{port}" if port else ""), url.path, "", ""))


def runbook_quotes(result: dict[str, Any], runbook_dir: Path) -> dict[str, str]:
    """Each item's runbook row (``runbook_text.quote``), for the page; an item the runbook cannot be read for is
    left out (the page then shows none for it)."""
    quotes = {}
    for row in result.get("items", []):
        item = BY_ID.get(str(row.get("id")))
        if item is None:
            continue
        try:
            quotes[item.id] = runbook_text.quote(item, runbook_dir)
        except (OSError, UnicodeDecodeError):
            continue
    return quotes


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


write_synced = verdict.write_synced  # whole and on disk, or not there


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
