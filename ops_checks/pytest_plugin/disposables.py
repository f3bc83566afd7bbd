"""The drills on disposable sandboxes (``ops_checks.drills.session``: §3 transition, §5 emergency, §6 incident, the
SOP drills), run alongside the session: each on a sandbox of its own on the session's Postgres server, started when
the session's sandbox starts (only the drills the collected items use), in a thread of its own; the drill's fixture
waits for its result.

Each drill is started, broken by its faults, drilled, its knobs reset and stopped (``drill_base.disposable``), in
that order; only the waiting overlaps. An exception of a drill is raised where its fixture asks for the result.

The fixtures the registry's steps ask for: one per drill (``<name>_drills``, named by ``Item.drill`` and the drill
Givens' ``needs``: the drill's result on the sandbox, None on live) and ``restore_server``/``restore_workdir``
(sop.weekly.4's ``check_needs``: where the backup-restore drill makes its disposable database; nowhere on live).
Which of the two runs is the library's choice (the drill's reader, ``restore_drill.check``), never a step's."""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest

from ops_checks.drills import base as drill_base
from ops_checks.drills import restore_drill, session
from ops_checks.pytest_plugin.plugin import SELECTED, WAIVERS, runbook_dir, runbook_item
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox


def drill_fixture(name: str) -> Any:
    """The session fixture ``<name>_drills``: on the sandbox, the result of the drill ``name``
    (``session.DRILLS``); on live, None (the library then runs the read-only checks)."""

    def fixture(request: pytest.FixtureRequest, sandbox: Sandbox | None) -> Any:
        return None if sandbox is None else request.config.stash[DISPOSABLES].result(name)

    fixture.__doc__ = session.DRILLS[name][0].__doc__
    return pytest.fixture(scope="session", name=session.fixture_of(name))(fixture)


transition_drills = drill_fixture("transition")
emergency_drills = drill_fixture("emergency")
incident_drills = drill_fixture("incident")
sop_drills = drill_fixture("sop")


@pytest.fixture(scope="session")
def restore_site(sandbox: Sandbox | None) -> restore_drill.Site:
    """Where sop.weekly.4's restore drill makes its disposable database (the session sandbox's Postgres server);
    nowhere on live (``restore_drill.check`` then reads the recorded drill)."""
    if sandbox is None or sandbox.server is None:
        return restore_drill.NOWHERE
    return restore_drill.Site(sandbox.server, sandbox.workdir / "restore_drill")


@pytest.fixture(scope="session")
def restore_server(restore_site: restore_drill.Site) -> postgres.Server | None:
    """``restore_drill.check``'s ``server`` (``restore_site``)."""
    return restore_site.server


@pytest.fixture(scope="session")
def restore_workdir(restore_site: restore_drill.Site) -> Path | None:
    """``restore_drill.check``'s ``workdir`` (``restore_site``)."""
    return restore_site.workdir


def session_of(config: pytest.Config, sandbox: Sandbox) -> session.Session:
    """What the drills take from this run: its faults, the session sandbox's workdir, the runbooks, the active
    waivers and the selected items."""
    path = runbook_dir(config)
    active, _ = config.stash[WAIVERS]
    return session.Session(
        faults=tuple(config.getoption("--sandbox-fault")),
        workdir=sandbox.workdir,
        runbook_dir=path if path.is_dir() else None,
        waivers=active,
        selected=config.stash.get(SELECTED, None),
    )


class Disposables:
    def __init__(self, config: pytest.Config, sandbox: Sandbox, names: list[str]) -> None:
        self.config, self.sandbox = config, sandbox
        self._pool = ThreadPoolExecutor(max_workers=max(len(names), 1), thread_name_prefix="drill")
        self._runs: dict[str, Future[Any]] = {n: self._pool.submit(self._run, n) for n in names}

    def _run(self, name: str) -> Any:
        assert self.sandbox.server is not None
        with drill_base.disposable(self.sandbox.server) as drill_sb:
            return session.DRILLS[name][0](drill_sb, session_of(self.config, self.sandbox))

    def result(self, name: str) -> Any:
        """The drill's result (run now if it was not started with the session)."""
        fut = self._runs.get(name)
        return self._run(name) if fut is None else fut.result()

    def close(self) -> None:
        """Wait for every drill (their errors went to their fixtures)."""
        wait(list(self._runs.values()))
        self._pool.shutdown(wait=True)


DISPOSABLES = pytest.StashKey[Disposables]()


def waits_for_a_drill(item: pytest.Item) -> bool:
    """Whether the item's steps ask for a drill's result (the drills run in threads from the session's start)."""
    return session.reads_a_drill(runbook_item(item) or "")


def needed(ids: Collection[str]) -> list[str]:
    """The drills the selected runbook items (``plugin.SELECTED``) use."""
    return session.needed(ids)
