"""pytest plugin: runbook tags → markers and Allure labels, mutation gating, outcomes → verdict.json.

Registered through the ``pytest11`` entry point named ``ops_checks.pytest_plugin.plugin`` (the module's own name,
so ``-p ops_checks.pytest_plugin.plugin`` or a conftest's ``pytest_plugins`` naming it loads it only once). It
brings the options, the target fixtures, the judging steps, the steps the registry declares (``registry_steps``)
and the step modules listed below (the steps that need code: they read a drill's record).
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import os
import signal
import threading
from collections.abc import Generator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pluggy import Result

from ops_checks import __version__, catalogue
from ops_checks.access import scope as scopes
from ops_checks.access.config import ConfigError, load_env
from ops_checks.catalogue import BY_ID, cadence, id_for_tag, runbook_text
from ops_checks.core import redaction, settings
from ops_checks.core.result import READ_ONLY, CheckResult, Status, not_verified
from ops_checks.pytest_plugin import selection as selection_of
from ops_checks.pytest_plugin.options import pytest_addoption  # noqa: F401 - the plugin's options hook
from ops_checks.report import html as report
from ops_checks.report import result_files
from ops_checks.verdict import verdict, waivers
from ops_checks.verdict.verdict import ItemOutcome

if TYPE_CHECKING:
    from ops_checks.procedures.kill_switch import KillSwitchFlow

# the fixtures, the judging steps and the registry's steps (every item's When and Given steps), then the step
# modules of steps/, if any (a step the registry cannot declare); every module of steps/ is listed here
STEP_MODULES: tuple[str, ...] = ()
pytest_plugins = [
    "ops_checks.pytest_plugin.fixtures",
    "ops_checks.pytest_plugin.judging",
    "ops_checks.pytest_plugin.registry_steps",
    *(f"ops_checks.pytest_plugin.steps.{m}" for m in STEP_MODULES),
]

SEVERITY_LABEL = {catalogue.BLOCKER: "blocker", catalogue.WARNING: "minor"}
OUTCOMES = pytest.StashKey[dict[str, verdict.ItemOutcome]]()
STARTED = pytest.StashKey[datetime]()
TARGET_INFO = pytest.StashKey[dict[str, str]]()
PROBED = pytest.StashKey[dict[str, str | None]]()  # live: each host's up-front probe (name -> problem, None: answered)
WAIVERS = pytest.StashKey[tuple[dict[str, waivers.Waiver], list[str]]]()
#: the item's CheckResult as the Then step judged it (its reason redacted): what the verdict is built from
RESULT_KEY = pytest.StashKey[CheckResult]()
#: the runbook items this run checks (after every selection): drills skip the parts no selected item reads
SELECTED = pytest.StashKey[frozenset[str]]()
#: the item running now, for steps that have no ``request`` to put their structured result on
CURRENT: contextvars.ContextVar[pytest.Item | None] = contextvars.ContextVar("opscheck_current_item", default=None)
SECRETS_FD = pytest.StashKey[int | None]()
#: the operator's declared scope (OPSCHECK_SCOPE): what is not applicable, printed in the header and recorded
SCOPE = pytest.StashKey[scopes.Scope]()
#: the session's §4.3 kill-switch flow once it ran (the kill_switch_flow fixture puts it here, even when interrupted)
KILL_SWITCH_FLOW: pytest.StashKey[KillSwitchFlow] = pytest.StashKey()


def left_active_by(config: pytest.Config) -> tuple[str, ...]:
    """The item of this run whose failure left the kill switch ACTIVE (the §4.3 flow's stopping step), if any: later
    items (§6 on live) rest on it."""
    flow = config.stash.get(KILL_SWITCH_FLOW, None)
    if flow is None or not flow.left_active or not flow.stopped_at:
        return ()
    return (flow.stopped_at,)


def target_name(config: pytest.Config) -> str:
    return config.getoption("--target") or os.environ.get("OPSCHECK_TARGET") or "sandbox"


def pytest_configure(config: pytest.Config) -> None:
    for name, text in selection_of.markers().items():  # the names `opscheck preflight -m` is checked against too
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[OUTCOMES] = {}
    config.stash[STARTED] = datetime.now(UTC)
    _interrupt_on_termination()
    path = config.getoption("--waivers", default=None)
    try:
        loaded = waivers.load(Path(path)) if path else []
    except waivers.WaiverError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[WAIVERS] = waivers.active_for(loaded, datetime.now(UTC).date())
    try:
        env = _settings_env(config)  # the env file read once, for the scope and the thresholds
        config.stash[SCOPE] = scopes.from_env(env)  # the operator's declared scope, as the checks read it
        settings.check(env)  # a malformed threshold stops the run in one line, before any item
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[TARGET_INFO] = {"target": target_name(config)}
    # the CLI's pipe for this run's secrets (see pytest_unconfigure); no process this one starts inherits it
    fd = os.environ.pop(redaction.SECRETS_FD_ENV, "")
    config.stash[SECRETS_FD] = int(fd) if fd.isdigit() else None


def _settings_env(config: pytest.Config) -> Mapping[str, str]:
    """Where the run's settings come from: the env file and the environment on live, the environment on the sandbox
    (which passes ``OPSCHECK_SCOPE`` through: ``sandbox/sop_env.py``). ConfigError when the env file is unreadable."""
    if target_name(config) == "live":
        env_file = config.getoption("--env-file", default=None)
        return load_env(Path(env_file) if env_file else None)
    return os.environ


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does (KeyboardInterrupt): the kill-switch flow's fail-safe runs,
    session fixtures tear the sandbox down, and the verdict is still written. Python's default for SIGTERM is to
    die on the spot, which would orphan the sandbox's Postgres server and leave the operator no word."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


PROGRESS_PREFIX = "@@opscheck "  # lines the `opscheck` CLI reads from this run's output (the rest goes to a log)


def announce(config: pytest.Config, text: str) -> None:
    """Tell the CLI what is happening (a phase, or an item's outcome), even from inside a fixture."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None or not config.getoption("--run-dir", default=None):  # only runs the CLI drives
        return
    capman = config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
        reporter.write_line(PROGRESS_PREFIX + text)


def pytest_collection_finish(session: pytest.Session) -> None:
    announce(session.config, f"phase checking {len(session.items)} items against the {target_name(session.config)}")
    session.config.stash[SELECTED] = frozenset(filter(None, (runbook_item(i) for i in session.items)))
    if session.config.getoption("--run-dir", default=None):  # a preflight's own process (the CLI's child)
        # what is alive now (modules, step definitions, items) lives until the process ends: the cyclic GC need
        # not walk it again at every collection, nor at pytest's closing gc passes (~0.2 s of CPU per run)
        gc.freeze()


def runbook_dir(config: pytest.Config) -> Path:
    """``--runbook DIR``, else ``$OPSCHECK_RUNBOOK_DIR``, else ``../shared/runbooks`` beside the checkout."""
    return runbook_text.resolve_dir(config.getoption("--runbook", default=None))


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = target_name(config)
    extra = (
        " (throwaway Postgres, VALR simulator, reference bot)"
        if name == "sandbox"
        else (
            f" (env file {config.getoption('--env-file') or 'none'}, "
            f"{'mutations ALLOWED' if config.getoption('--allow-mutations') else 'read-only'})"
        )
    )
    return [f"ops_checks target: {name}{extra}", f"ops_checks {config.stash[SCOPE].describe()}"]


def runbook_item(item: pytest.Item) -> str | None:
    for mark in item.iter_markers():
        found = id_for_tag(mark.name)
        if found and found in BY_ID:
            return found
    return None


def _deselect_cadences(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Weekly/monthly prevention items run only when ``--cadence`` names their cadence."""
    try:
        chosen = cadence.parse(config.getoption("--cadence", default=None))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        tagged = {c for c in cadence.OPTIONAL if item.get_closest_marker(f"cadence_{c}")}
        (drop if tagged and not tagged & chosen else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _deselect_cadences(config, items)
    live_read_only = target_name(config) == "live" and not config.getoption("--allow-mutations")
    for item in items:
        rb = runbook_item(item)
        if rb is None:
            continue
        cat = BY_ID[rb]
        item.user_properties.append(("runbook_item", rb))
        item.add_marker(pytest.mark.allure_description(runbook_text.quote(cat, runbook_dir(config))))
        for label_type, value in (
            ("epic", cat.runbook),
            ("feature", cat.section),
            ("story", f"{rb} {cat.title}"),
            ("severity", SEVERITY_LABEL[cat.severity_on(target_name(config))]),
        ):
            item.add_marker(pytest.mark.allure_label(value, label_type=label_type))
        if live_read_only and item.get_closest_marker("mutating"):
            why = "needs --allow-mutations (read-only live run)"
            item.stash[RESULT_KEY] = not_verified(why, cause=READ_ONLY)
            item.add_marker(pytest.mark.skip(reason=why))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _judged(item: pytest.Item, rb: str, rep: pytest.TestReport) -> ItemOutcome:
    """An item's outcome from its structured result (``RESULT_KEY``, put there by the Then step, a Given that did not
    hold, or the read-only gate): its status, reason, cause and ``blocked_by`` as the check said them. Only what no
    check judged is read from pytest: a setup or step that raised is an *error* (the exception's first line); an item
    that ended without any result is an *error* too, never a pass."""
    result = item.stash.get(RESULT_KEY, None)
    if result is not None and (rep.skipped or rep.failed or result.ok):
        if rep.failed and result.ok:  # the check passed, then a later step or the teardown raised
            return _errored(item, rb, rep)
        return verdict.outcome(
            rb,
            result.status.value,
            _first_line(result.reason),
            target_name(item.config),
            cause=result.cause,
            blocked_by=result.blocked_by,
        )
    if rep.failed:
        return _errored(item, rb, rep)
    if rep.skipped:  # a skip no check of the suite made (a marker, a plugin): said as pytest gave it
        longrepr = rep.longrepr
        reason = str(longrepr[2]).removeprefix("Skipped: ") if isinstance(longrepr, tuple) else "skipped"
        return verdict.outcome(rb, Status.NOT_VERIFIED.value, reason, target_name(item.config))
    if rep.when == "call":
        return verdict.outcome(rb, Status.ERROR.value, "the scenario ended without a result", target_name(item.config))
    return verdict.outcome(rb, Status.PASSED.value, "", target_name(item.config))


def _errored(item: pytest.Item, rb: str, rep: pytest.TestReport) -> ItemOutcome:
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = _first_line(crash.message if crash is not None else str(rep.longrepr or ""))
    for prefix in ("AssertionError: ", "Failed: ", "CheckError: "):
        text = text.removeprefix(prefix)
    return verdict.outcome(rb, Status.ERROR.value, text, target_name(item.config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, None]:
    token = CURRENT.set(item)
    try:
        yield
    finally:
        CURRENT.reset(token)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    rb = runbook_item(item)
    if rb is None:
        return
    outcomes = item.config.stash[OUTCOMES]
    current = outcomes.get(rb)
    if rep.when == "call" or (rep.when == "setup" and not rep.passed) or (rep.when == "teardown" and rep.failed):
        if current is None or current.status == verdict.PASSED:
            outcomes[rb] = _judged(item, rb, rep)
    if rep.when == "teardown" and rb in outcomes:  # the item's outcome is final: tell the CLI
        announce(item.config, f"item {rb} {outcomes[rb].status}")


def selection(config: pytest.Config) -> dict[str, Any]:
    """What this run was asked to check, and which items of the daily preflight it left out (→ PARTIAL)."""
    try:
        chosen = cadence.parse(config.getoption("--cadence", default=None))
    except ValueError:
        chosen = set()
    expected = {i.id for i in catalogue.ITEMS if cadence.of_item(i.id) is None or cadence.of_item(i.id) in chosen}
    outcomes = config.stash[OUTCOMES]
    left_out = sorted(expected - set(outcomes), key=verdict.sort_key)
    return {
        "features": os.environ.get("OPSCHECK_FEATURES") or None,
        "markers": getattr(config.option, "markexpr", "") or None,
        "cadence": sorted(chosen) or None,
        "left_out": left_out,
        "complete": not left_out,
    }


def current_verdict(config: pytest.Config) -> dict[str, Any]:
    active, warnings = config.stash[WAIVERS]
    in_force = [
        {"item": w.item, "justification": w.justification, "approver": w.approver, "expires": w.expires.isoformat()}
        for w in sorted(active.values(), key=lambda w: verdict.sort_key(w.item))
    ]
    return verdict.build(
        verdict.apply_waivers(list(config.stash[OUTCOMES].values()), active),
        target=config.stash[TARGET_INFO]["target"],
        started_at=config.stash[STARTED],
        finished_at=datetime.now(UTC),
        operator=config.getoption("--operator"),
        witness=config.getoption("--witness"),
        warnings=warnings,
        selection=selection(config),
        waivers_in_force=in_force,
        scope=config.stash[SCOPE].as_json(),
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config.stash[OUTCOMES]:
        return
    terminalreporter.section("ops_checks verdict")
    redactor = redaction.Redactor.everything_known()  # every secret seen by now: the summary goes to pytest.log
    for line in verdict.render_table(current_verdict(config)).splitlines():
        terminalreporter.write_line(redactor.text(line))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    alluredir = getattr(config.option, "allure_report_dir", None)
    if alluredir and Path(alluredir).is_dir():
        target_info = config.stash[TARGET_INFO]
        info = dict(target_info)
        info.update(
            {
                "operator": config.getoption("--operator") or "",
                "witness": config.getoption("--witness") or "",
                "ops_checks": __version__,
            }
        )
        report.write_environment(Path(alluredir), info)
        report.write_categories(Path(alluredir))
        run_dir = config.getoption("--run-dir", default=None)
        operator = config.getoption("--operator") or "unnamed operator"
        report.write_executor(
            Path(alluredir),
            name=f"opscheck ({operator})",
            build_name=Path(run_dir).name if run_dir else "pytest session",
            report_name=f"ops_checks preflight — {info.get('target', '')}",
        )


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After every sessionfinish (JUnit XML is written by then): scrub the result files of every secret value
    this process has seen, then verdict.json with the results digest. Last, whatever happened, hand every secret
    this process knows to the CLI (its pipe), which masks them in pytest.log, the output it kept of this run."""
    try:
        _write_results(config)
    finally:
        fd = config.stash.get(SECRETS_FD, None)
        if fd is not None:
            redaction.hand_over(fd)


def _write_results(config: pytest.Config) -> None:
    scrubber = redaction.Redactor.everything_known()
    run_dir = config.getoption("--run-dir", default=None)
    result = None
    if OUTCOMES in config.stash and config.stash[OUTCOMES]:
        # every result file says what the verdict says (its structured status, cause and remedy), and the Allure
        # overview shows the verdict; then the files are scrubbed of every secret this process has seen
        result = current_verdict(config) | ({"run_id": Path(run_dir).name} if run_dir else {})
        paths = {o: getattr(config.option, o, None) for o in ("xmlpath", "allure_report_dir", "cucumber_json_path")}
        result_files.rewrite_all(
            junit=Path(paths["xmlpath"]) if paths["xmlpath"] else None,
            allure=Path(paths["allure_report_dir"]) if paths["allure_report_dir"] else None,
            cucumber=Path(paths["cucumber_json_path"]) if paths["cucumber_json_path"] else None,
            verdict=result,
        )
    scrubbed: set[Path] = set()
    for option in ("allure_report_dir", "xmlpath", "cucumber_json_path"):
        path = getattr(config.option, option, None)
        if path and Path(path).exists():
            redaction.scrub_tree(Path(path), scrubber)
            scrubbed.add(Path(path).resolve())
    if not run_dir or result is None:
        return
    for path in Path(run_dir).iterdir():  # pytest.log is the CLI's: it is still writing it, and masks it itself
        if path.name != verdict.LOG_FILE and path.resolve() not in scrubbed:  # each file once (~600 of them)
            redaction.scrub_tree(path, scrubber)
    result["results_sha256"] = verdict.results_digest(Path(run_dir))
    redaction.scrub_tree(verdict.write(Path(run_dir), result), scrubber)
