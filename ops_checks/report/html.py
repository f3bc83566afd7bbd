"""Render Allure results into one self-contained HTML file, and prove it loads nothing from the network.

Plain library: no pytest or allure imports. The Allure CLI is Allure 2 (npm package ``allure-commandline``,
a Java program) installed by ``scripts/install-allure.sh`` into ``.tools/allure`` under the repo.

What Allure 2.46.1 ``generate --single-file`` emits (checked on this machine):

* Without ``ALLURE_NO_ANALYTICS``: ``<script async src="https://www.googletagmanager.com/gtag/js?id=G-...">``
  followed by an inline ``<script>`` that sets ``window.dataLayer``, defines ``gtag()`` and calls
  ``gtag('config', 'G-...', {allureVersion, reportUuid, single_file: true})`` -- a network load on open.
* With ``ALLURE_NO_ANALYTICS=true``: neither script is written. Everything else is inline: the app bundle is a
  ``<script src="data:text/javascript;base64,...">``, the favicon a ``data:image/x-icon`` URI, and every report
  JSON and attachment a base64 string passed to ``d('data/...', '...')``. The decoded bundle contains
  ``http(s)://`` strings only as SVG/XML namespace URIs, highlight.js comments, a link to trace.playwright.dev
  (a user-clicked link for Playwright traces) and ``fetch()`` of ``data:``/``blob:`` URLs: no automatic load.

``render_single_file`` always sets ``ALLURE_NO_ANALYTICS=true``, still runs ``strip_analytics`` (in case a
future version ignores the variable) and then ``assert_offline``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ops_checks.core import envfile
from ops_checks.verdict import verdict as verdicts

__all__ = [
    "STATUS_CATEGORIES",
    "ReportError",
    "allure_bin_in",
    "assert_offline",
    "categories",
    "embedded_files",
    "find_allure",
    "render_single_file",
    "report_name",
    "strip_analytics",
    "write_categories",
    "write_environment",
    "write_executor",
    "write_overview",
]

# Allure's categories, one per outcome: (name, Allure statuses, the status whose message starts "<WORD>: "). Allure
# tells failed from broken by status; the three kinds of skipped differ only by their message, which result_files
# writes from the item's structured status ("NOT VERIFIED: …"): a rendering, never read back by our code.
STATUS_CATEGORIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Failed: the check ran and the target does not hold", ("failed",), verdicts.FAILED),
    ("Error: the check could not run", ("broken",), verdicts.ERROR),
    ("Not verified: nothing was checked", ("skipped",), verdicts.NOT_VERIFIED),
    ("Not applicable: out of the declared scope", ("skipped",), verdicts.NOT_APPLICABLE),
    ("Waived: failed, under an approved waiver", ("skipped",), verdicts.WAIVED),
)

# Relative to the repo root: where scripts/install-allure.sh puts the CLI.
ALLURE_REL_PATH = Path(".tools/allure/node_modules/allure-commandline/dist/bin/allure")


class ReportError(RuntimeError):
    """The report could not be rendered; str() is a one-line reason."""


# --------------------------------------------------------------------------- locating and running Allure


def allure_bin_in(repo_root: Path) -> Path:
    """Where install-allure.sh puts the binary (whether or not it exists)."""
    return Path(repo_root) / ALLURE_REL_PATH


def find_allure(repo_root: Path) -> Path | None:
    """The Allure 2 CLI: ``$ALLURE_BIN`` if set, else ``.tools/allure`` under repo_root, else ``allure`` on PATH."""
    env = os.environ.get("ALLURE_BIN")
    if env:
        p = Path(env)
        return p if p.is_file() and os.access(p, os.X_OK) else None
    p = allure_bin_in(repo_root)
    if p.is_file() and os.access(p, os.X_OK):
        return p
    found = shutil.which("allure")
    return Path(found) if found else None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


JVM_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"


def _run(cmd: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    # Own process group, so a timeout also ends the JVM the start script runs.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise ReportError(f"allure generate timed out after {timeout_s:g} s") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def render_single_file(
    results_dir: Path,
    out_dir: Path,
    *,
    allure_bin: Path,
    title: str = "ops_checks preflight",
    timeout_s: float = 120,
    offline_check: bool = True,
) -> Path:
    """Run ``allure generate --single-file --clean`` and return ``out_dir/index.html``.

    ``out_dir`` is deleted and recreated by Allure (``--clean``), so it must not be, or contain, results_dir.
    Raises ReportError (one-line reason) on a missing binary or results dir, a non-zero exit, a timeout, a
    missing index.html, or (with offline_check) any external reference left in the HTML.
    """
    results_dir = Path(results_dir).resolve()
    out_dir = Path(out_dir).resolve()
    allure_bin = Path(allure_bin)
    if not (allure_bin.is_file() and os.access(allure_bin, os.X_OK)):
        raise ReportError(f"allure binary not found or not executable: {allure_bin} (run scripts/install-allure.sh)")
    if not results_dir.is_dir():
        raise ReportError(f"allure results dir not found: {results_dir}")
    if out_dir == results_dir or results_dir.is_relative_to(out_dir):
        raise ReportError(f"refusing to generate into {out_dir}: --clean would delete the results in {results_dir}")

    env = envfile.environ()
    env["ALLURE_NO_ANALYTICS"] = "true"
    # one short-lived JVM per report: the client compiler only and the serial collector cut its CPU by a third and
    # its time by ~0.5 s (benchmarks/report_render.py); an operator's own JAVA_OPTS are left as they are
    env.setdefault("JAVA_OPTS", JVM_OPTS)
    base = [str(allure_bin), "generate", "--single-file", "--clean", "-o", str(out_dir)]
    name_opt = ["--name", title] if title else []
    try:
        proc = _run([*base, *name_opt, str(results_dir)], env, timeout_s)
        if proc.returncode != 0 and name_opt and "--name" in (proc.stderr + proc.stdout):
            # An older Allure 2 without --name: render without a title rather than not at all.
            proc = _run([*base, str(results_dir)], env, timeout_s)
    except OSError as exc:
        raise ReportError(f"cannot run {allure_bin}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        why = _last_line(proc.stderr) or _last_line(proc.stdout) or "no output"
        raise ReportError(f"allure generate exited {proc.returncode}: {why}")

    html = out_dir / "index.html"
    if not html.is_file():
        raise ReportError(f"allure generate wrote no {html}")
    strip_analytics(html)
    if offline_check:
        refs = assert_offline(html)
        if refs:
            more = f" (+{len(refs) - 1} more)" if len(refs) > 1 else ""
            raise ReportError(f"report references the network: {refs[0]}{more}")
    return html


def carry_history(results_dir: Path, history_dir: Path) -> None:
    """Put the kept trend history into the results before the one ``allure generate --single-file`` (Allure 2
    reads ``history/`` from the results dir), so the report shows the trend up to this run. No Allure run."""
    results_dir, history_dir = Path(results_dir).resolve(), Path(history_dir).resolve()
    if history_dir.is_dir():
        shutil.copytree(history_dir, results_dir / "history", dirs_exist_ok=True)


HISTORY_PREFIX = "history/"


def keep_history(html_path: Path, history_dir: Path) -> None:
    """Keep the updated trend history for the next run: the single-file report inlines the history Allure
    computed for it (``history/*.json``, this run included), so it is read back from the page; it replaces the
    kept one only whole (written beside it, then renamed into place). ReportError when the page holds none."""
    history_dir = Path(history_dir).resolve()
    files = {
        name[len(HISTORY_PREFIX) :]: data
        for name, data in embedded_files(html_path).items()
        if name.startswith(HISTORY_PREFIX) and "/" not in name[len(HISTORY_PREFIX) :]
    }
    if "history.json" not in files:
        raise ReportError(f"the report {html_path} holds no history/history.json")
    tmp = history_dir.with_name(history_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    old = history_dir.with_name(history_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if history_dir.exists():
        history_dir.replace(old)
    tmp.replace(history_dir)
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- offline check

_URL = r"(?:https?:)?//[^\s\"'<>)`\\]+"
_ABS_URL = r"https?://[^\s\"'<>)`\\]+"
_ALLURE_DATA = re.compile(r"\bd\(\s*'(?P<name>[^']+)'\s*,\s*'(?P<payload>[A-Za-z0-9+/=]*)'\s*\)")
_ANALYTICS_HOST = re.compile(r"googletagmanager\.com|google-analytics\.com", re.IGNORECASE)  # strip_analytics
_URL_STOP = set(" \t\r\n\"'<>()`\\,;")

# The offline scan runs on the page's bytes lowered once (ASCII only, so every offset is the original's): each
# pattern starts with a literal that the regex engine finds with a fast search, instead of one case-insensitive
# pass per pattern over megabytes of inlined base64. ``\b`` before a leading word is checked by hand (``_word_start``).
_B_URL = rb"(?P<url>(?:https?:)?//[^\s\"'<>)`\\]+)"
_B_ABS_URL = rb"(?P<url>https?://[^\s\"'<>)`\\]+)"
_LOAD_TAGS = (
    "script",
    "link",
    "img",
    "iframe",
    "frame",
    "source",
    "video",
    "audio",
    "embed",
    "object",
    "track",
    "image",
    "use",
)
# A tag that loads what its src/href/... points at.
_TAG_REFS = tuple(
    re.compile(
        rb"<(?P<tag>"
        + tag.encode()
        + rb")\b[^>]*?\b(?P<attr>src|href|xlink:href|data|poster|srcset)\s*=\s*[\"']?\s*"
        + _B_URL
    )
    for tag in _LOAD_TAGS
)
# (kind, pattern, the pattern's leading word needs a word boundary before it)
_PATTERNS: tuple[tuple[str, re.Pattern[bytes], bool], ...] = (
    ("css url()", re.compile(rb"url\(\s*[\"']?\s*" + _B_ABS_URL), False),
    ("css @import", re.compile(rb"@import\s+(?:url\(\s*)?[\"']?\s*" + _B_URL), False),
    ("fetch()", re.compile(rb"fetch\(\s*[\"'`]" + _B_ABS_URL), True),
    ("XMLHttpRequest", re.compile(rb"\.open\(\s*[\"'`][a-z]+[\"'`]\s*,\s*[\"'`]" + _B_ABS_URL), False),
    ("beacon/event source", re.compile(rb"sendbeacon\(\s*[\"'`]" + _B_ABS_URL), True),
    ("beacon/event source", re.compile(rb"eventsource\(\s*[\"'`]" + _B_ABS_URL), True),
    ("beacon/event source", re.compile(rb"importscripts\(\s*[\"'`]" + _B_ABS_URL), True),
    ("websocket", re.compile(rb"websocket\(\s*[\"'`](?P<url>wss?://[^\s\"'`]+)"), True),
)
_ANALYTICS_HOSTS = (re.compile(rb"googletagmanager\.com"), re.compile(rb"google-analytics\.com"))
_B_URL_STOP = frozenset(ord(c) for c in _URL_STOP)
# data: URIs in attributes (the inlined app bundle, styles, frames): found by "data:", matched from the quote before.
_DATA_MARK = re.compile(rb"data:")
_DATA_URI = re.compile(
    rb"(?P<q>[\"'(])data:(?P<mime>[\w.+-]+/[\w.+-]+)(?P<params>[^,\"')]*?),(?P<payload>[^\"')]*)(?P=q)?"
)
_TEXTUAL = re.compile(rb"javascript|ecmascript|css|html|svg|xml")
# Allure single-file payloads: d('data/attachments/x.html', 'base64') (the payload is found by its closing quote).
_ALLURE_HEAD = re.compile(rb"d\(\s*'(?P<name>[^']+)'\s*,\s*'")
_ALLURE_TAIL = re.compile(rb"'\s*\)")
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_RENDERED_EXT = re.compile(r"\.(?:html?|svg|css|js)$", re.IGNORECASE)
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _b64_bytes(payload: bytes) -> bytes | None:
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None


def _word_start(low: bytes, pos: int) -> bool:
    return pos == 0 or low[pos - 1] not in _WORD


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _scan(raw: bytes, where: str, found: list[str], depth: int = 0) -> None:
    low = raw.lower()
    suffix = f" (in {where})" if where else ""
    for pattern in _TAG_REFS:
        for m in pattern.finditer(low):
            found.append(f"<{_text(m['tag'])} {_text(m['attr'])}> {_text(raw[m.start('url') : m.end('url')])}{suffix}")
    for kind, pattern, bounded in _PATTERNS:
        for m in pattern.finditer(low):
            if not bounded or _word_start(low, m.start()):
                found.append(f"{kind} {_text(raw[m.start('url') : m.end('url')])}{suffix}")
    for host in _ANALYTICS_HOSTS:
        for m in host.finditer(low):
            # Widen the literal host hit to the surrounding URL.
            start, end = m.start(), m.end()
            while start > 0 and m.start() - start < 200 and raw[start - 1] not in _B_URL_STOP:
                start -= 1
            while end < len(raw) and end - m.end() < 300 and raw[end] not in _B_URL_STOP:
                end += 1
            found.append(f"analytics {_text(raw[start:end])}{suffix}")
    if depth >= 2:
        return
    resume = 0
    for mark in _DATA_MARK.finditer(low):
        if mark.start() < resume or mark.start() == 0:
            continue
        uri = _DATA_URI.match(low, mark.start() - 1)
        if uri is None:
            continue
        resume = uri.end()
        if not _TEXTUAL.search(uri["mime"]):
            continue
        payload = raw[uri.start("payload") : uri.end("payload")]
        if b";base64" in uri["params"].replace(b" ", b""):
            decoded = _b64_bytes(payload)
        else:
            decoded = unquote(_text(payload)).encode("utf-8", "surrogateescape")
        if decoded:
            _scan(decoded, f"data:{_text(uri['mime'])}", found, depth + 1)
    if depth == 0:
        for m in _ALLURE_HEAD.finditer(raw):
            if not _word_start(raw, m.start()) or not _RENDERED_EXT.search(_text(m["name"])):
                continue
            close = raw.find(b"'", m.end())
            payload = raw[m.end() : close]
            if close < 0 or payload.translate(None, _B64_ALPHABET) or not _ALLURE_TAIL.match(raw, close):
                continue
            decoded = _b64_bytes(payload)
            if decoded:
                _scan(decoded, _text(m["name"]), found, depth + 1)


def assert_offline(html_path: Path) -> list[str]:
    """Every external reference in the HTML, one line each (empty list: nothing loads from the network).

    Looks for http(s) and protocol-relative src/href in loading tags (script, link, img, iframe, ...), CSS
    ``url(http...)`` and ``@import``, ``fetch``/``XMLHttpRequest``/beacon/WebSocket calls to absolute URLs,
    and any googletagmanager.com / google-analytics.com reference, case-insensitively. Inline textual ``data:``
    URIs (the app bundle) and Allure's inlined HTML/SVG/CSS/JS attachments are decoded and scanned too. Plain
    ``<a href>`` links and URLs inside test data (e.g. an HTTP exchange shown as text) are not loads and are not
    reported.
    """
    found: list[str] = []
    _scan(Path(html_path).read_bytes(), "", found)
    return list(dict.fromkeys(found))


def embedded_files(html_path: Path) -> dict[str, bytes]:
    """The report files Allure inlined into a single-file report: ``{'data/test-cases/x.json': b'...', ...}``.

    Test names, statuses, messages and attachments live only here (base64), not as plain text in the HTML.
    """
    text = Path(html_path).read_text(encoding="utf-8", errors="replace")
    files: dict[str, bytes] = {}
    for m in _ALLURE_DATA.finditer(text):
        try:
            files[m["name"]] = base64.b64decode(m["payload"])
        except (binascii.Error, ValueError):
            continue
    return files


# --------------------------------------------------------------------------- analytics removal

_SCRIPT = re.compile(r"[ \t]*<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>[ \t]*\n?", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"[ \t]*<link\b[^>]*>[ \t]*\n?", re.IGNORECASE)
_ANALYTICS_BODY = re.compile(r"googletagmanager\.com|google-analytics\.com|\bgtag\s*\(|\bdataLayer\b", re.IGNORECASE)
_MAX_ANALYTICS_INLINE = 20_000  # an inline analytics snippet is small; never drop a large (app) script


def strip_analytics(html_path: Path) -> int:
    """Remove analytics scripts (and preconnect links to analytics hosts) in place; return how many were removed.

    Removes ``<script src=...googletagmanager/google-analytics...>`` and small inline scripts that set up
    ``gtag``/``dataLayer``. Leaves the file untouched when there is nothing to remove.
    """
    path = Path(html_path)
    text = path.read_text(encoding="utf-8")
    removed = 0

    def drop_script(m: re.Match[str]) -> str:
        nonlocal removed
        attrs, body = m["attrs"], m["body"]
        if _ANALYTICS_HOST.search(attrs) or (
            len(body) <= _MAX_ANALYTICS_INLINE and "data:" not in attrs and _ANALYTICS_BODY.search(body)
        ):
            removed += 1
            return ""
        return m[0]

    def drop_link(m: re.Match[str]) -> str:
        nonlocal removed
        if _ANALYTICS_HOST.search(m[0]):
            removed += 1
            return ""
        return m[0]

    new = _LINK.sub(drop_link, _SCRIPT.sub(drop_script, text))
    if removed:
        _atomic_write(path, new)
    return removed


# --------------------------------------------------------------------------- results-dir metadata


def _atomic_write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _escape_properties(text: str, *, is_key: bool) -> str:
    """Escape like java.util.Properties.store(): ASCII-only output, \\uXXXX for the rest."""
    out: list[str] = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == " ":
            out.append("\\ " if (is_key or i == 0) else " ")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!":
            out.append("\\" + ch)
        elif code < 0x20 or code > 0x7E:
            if code > 0xFFFF:  # UTF-16 surrogate pair, as Java holds it
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


def write_environment(results_dir: Path, props: Mapping[str, str]) -> Path:
    """Write ``environment.properties`` (Java properties escaping; ISO-8859-1-safe ASCII). Never pass secrets."""
    lines = [
        f"{_escape_properties(str(k), is_key=True)}={_escape_properties('' if v is None else str(v), is_key=False)}"
        for k, v in props.items()
    ]
    path = Path(results_dir) / "environment.properties"
    _atomic_write(path, "".join(ln + "\n" for ln in lines), encoding="ascii")
    return path


def write_executor(
    results_dir: Path,
    name: str,
    build_name: str,
    report_name: str,
    *,
    executor_type: str = "opscheck",
    build_order: int | None = None,
) -> Path:
    """Write ``executor.json`` (shown in the report's Executors widget). No URLs: the report stays offline."""
    data: dict[str, object] = {
        "name": name,
        "type": executor_type,
        "buildName": build_name,
        "reportName": report_name,
    }
    if build_order is not None:
        data["buildOrder"] = build_order
    path = Path(results_dir) / "executor.json"
    _atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def _starts_with(status: str) -> str:
    # Java regex, matched against the whole message (Matcher.matches()): "NOT VERIFIED: …" (result_files.message)
    return r"(?s)" + re.escape(verdicts.WORDS[status].upper() + ":").replace("\\ ", " ") + r".*"


def _points_at(status: str, cause_id: str) -> str:
    # that, and a line of the message's explanation "→ C1: <summary>" (result_files.explanation)
    return _starts_with(status).replace("(?s)", "(?ms)", 1) + r"^→ " + re.escape(cause_id) + r": .*"


def categories(verdict: Mapping[str, Any] | None = None) -> list[dict[str, object]]:
    """The categories write_categories() writes: one per status that is not passed; given the run's verdict, each
    is preceded by one per cause its items point at (``Not verified — C1: <summary>``). Allure puts a result in
    the first category it matches, so an item points at the lowest-numbered of its causes there."""
    verdict = verdict or {}
    items = {str(i["id"]): dict(i) for i in verdict.get("items") or []}
    causes = {str(c["id"]): c for c in verdict.get("causes") or []}
    first: set[tuple[str, str]] = set()  # (status, the first cause an item of that status points at)
    for item in items.values():
        pointers = [c for c in verdicts.points_at(item, items) if c in causes]
        if pointers:
            first.add((str(item["status"]), pointers[0]))
    out: list[dict[str, object]] = []
    for name, statuses, status in STATUS_CATEGORIES:
        for cause_id, cause in causes.items():
            if (status, cause_id) in first:
                summary = _short(str(cause.get("summary", "")), 150)
                out.append(
                    {
                        "name": f"{name.split(':')[0]} — {cause_id}: {summary}",
                        "matchedStatuses": list(statuses),
                        "messageRegex": _points_at(status, cause_id),
                    }
                )
        category: dict[str, object] = {"name": name, "matchedStatuses": list(statuses)}
        if statuses == ("skipped",):  # failed and broken are told apart by their Allure status alone
            category["messageRegex"] = _starts_with(status)
        out.append(category)
    return out


def write_categories(results_dir: Path, verdict: Mapping[str, Any] | None = None) -> Path:
    """Write ``categories.json``: the results by status and (given the verdict) by cause."""
    path = Path(results_dir) / "categories.json"
    _atomic_write(path, json.dumps(categories(verdict), indent=2, ensure_ascii=False) + "\n")
    return path


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_name(verdict: Mapping[str, Any], title: str = "ops_checks preflight") -> str:
    """The Allure report's name, which its overview shows first: ``ops_checks preflight (sandbox) — NO-GO (2 causes,
    16 items)``; a GO run reads ``… — GO``."""
    word, _, why = verdicts.headline(dict(verdict)).partition(" — ")
    target = verdict.get("target")
    return f"{title}{f' ({target})' if target else ''} — {word}{f' ({why})' if why else ''}"


def write_overview(results_dir: Path, verdict: Mapping[str, Any]) -> None:
    """What the Allure overview shows of the verdict (its donut counts only tests): the verdict in the report's
    name (``executor.json``) and in its environment (``verdict``, ``run`` and one line per cause), and the
    categories per status and per cause. Keeps what the plugin wrote in both files before."""
    results_dir = Path(results_dir)
    write_categories(results_dir, verdict)
    executor_path = results_dir / "executor.json"
    try:
        executor = json.loads(executor_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        executor = {}
    write_executor(
        results_dir,
        name=str(executor.get("name") or "opscheck"),
        build_name=str(executor.get("buildName") or verdict.get("run_id") or "pytest session"),
        report_name=report_name(verdict),
        build_order=executor.get("buildOrder") if isinstance(executor.get("buildOrder"), int) else None,
    )
    props = _read_properties(results_dir / "environment.properties")
    props = {k: v for k, v in props.items() if k not in ("verdict", "run") and not re.fullmatch(r"C\d+", k)}
    head = {"verdict": verdicts.headline(dict(verdict)), "run": str(verdict.get("run_id") or "")}
    props = {**{k: v for k, v in head.items() if v}, **props}
    for cause in (verdict.get("causes") or [])[:20]:
        props[str(cause["id"])] = _short(f"{cause.get('summary', '')} (remedy: {cause.get('remedy', '')})", 400)
    write_environment(results_dir, props)


def _read_properties(path: Path) -> dict[str, str]:
    """``environment.properties`` as write_environment() writes it (one ``key=value`` a line, Java escapes)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"((?:\\.|[^=\\])*)=(.*)", line)
        if m:
            out[_unescape_properties(m[1])] = _unescape_properties(m[2])
    return out


def _unescape_properties(text: str) -> str:
    simple = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

    def one(m: re.Match[str]) -> str:
        ch = m[1]
        if ch.startswith("u"):
            return chr(int(ch[1:], 16))
        return simple.get(ch, ch)

    decoded = re.sub(r"\\(u[0-9A-Fa-f]{4}|.)", one, text)
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16")  # join surrogate pairs
