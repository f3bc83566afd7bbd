"""The drills on disposable sandboxes (§3 transition, §5 emergency, §6 incident, the SOP drills), run alongside
the session: each on a sandbox of its own on the session's Postgres server, started when the session's sandbox
starts (only the drills the collected items use), in a thread of its own; the drill's fixture waits for its result.

Each drill is the same code as when it ran inside its fixture (``@drill_fixture`` registers it and makes its
fixture): started, broken by its faults, drilled, its knobs reset and stopped (``drill_base.disposable``), in that
order; only the waiting overlaps. An exception of a drill is raised where its fixture asks for the result, as it
was."""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import pytest

from ops_checks.drills import base as drill_base
from ops_checks.pytest_plugin.plugin import runbook_item
from ops_checks.sandbox.environment import Sandbox

Work = Callable[[pytest.Config, Sandbox, Sandbox], Any]  # (config, the session's sandbox, the drill's sandbox)
#: fixture name -> (the drill it runs, the runbook items whose steps ask for it)
DRILLS: dict[str, tuple[Work, Callable[[str], bool]]] = {}


def drill_fixture(name: str, used_by: Callable[[str], bool]) -> Callable[[Work], Any]:
    """Register ``work`` as the drill of the session fixture ``name`` and return that fixture (its docstring is the
    drill's): on the sandbox, the drill's result; on live, None (the steps then run the read-only checks).
    ``used_by(item_id)``: whether that item's steps ask for it (a drill no collected item uses is not started; one
    missed here still runs, in its fixture)."""

    def register(work: Work) -> Any:
        DRILLS[name] = (work, used_by)

        def fixture(request: pytest.FixtureRequest, sandbox: Sandbox | None) -> Any:
            return None if sandbox is None else request.config.stash[DISPOSABLES].result(name)  # = request.fixturename

        fixture.__doc__ = work.__doc__
        return pytest.fixture(scope="session", name=name)(fixture)

    return register


class Disposables:
    def __init__(self, config: pytest.Config, sandbox: Sandbox, names: list[str]) -> None:
        self.config, self.sandbox = config, sandbox
        self._pool = ThreadPoolExecutor(max_workers=max(len(names), 1), thread_name_prefix="drill")
        self._runs: dict[str, Future[Any]] = {n: self._pool.submit(self._run, n) for n in names}

    def _run(self, name: str) -> Any:
        assert self.sandbox.server is not None
        with drill_base.disposable(self.sandbox.server) as drill_sb:
            return DRILLS[name][0](self.config, self.sandbox, drill_sb)

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
    rb = runbook_item(item) or ""
    return any(used_by(rb) for _work, used_by in DRILLS.values())


def needed(ids: Collection[str]) -> list[str]:
    """The drills the selected runbook items (``plugin.SELECTED``) use."""
    return [name for name, (_work, used_by) in DRILLS.items() if any(used_by(i) for i in ids)]
