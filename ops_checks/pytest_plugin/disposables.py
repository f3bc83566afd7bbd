"""The drills' disposable sandboxes on the session's Postgres server: started at the same time as the session's
sandbox (only those the collected items use), handed to their drill fixtures, and stopped in the background.

Each drill still gets a sandbox of its own, started exactly as before (``Sandbox(server=…).start()``) and broken
by its faults after it is handed over; only the waiting is shared. ``close`` waits for every start and stop."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait

from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox

#: the session fixtures that each drill their own disposable sandbox
DRILL_FIXTURES = ("transition_drills", "emergency_drills", "sop_drills", "incident_drills")


def _start(server: postgres.Server) -> Sandbox:
    sb = Sandbox(server=server)
    try:
        sb.start()
    except BaseException:
        sb.stop()
        raise
    return sb


class Disposables:
    def __init__(self, server: postgres.Server, names: list[str]) -> None:
        self.server = server
        self._pool = ThreadPoolExecutor(max_workers=max(len(names), 1), thread_name_prefix="disposable")
        self._started: dict[str, Future[Sandbox]] = {n: self._pool.submit(_start, server) for n in names}
        self._stops: list[Future[None]] = []

    def wait_started(self) -> None:
        wait(list(self._started.values()))

    def take(self, name: str) -> Sandbox:
        """The started sandbox for ``name`` (started now if it was not prestarted); its start's error, if any."""
        fut = self._started.pop(name, None)
        return fut.result() if fut is not None else _start(self.server)

    def stop_later(self, sb: Sandbox) -> None:
        self._stops.append(self._pool.submit(sb.stop))

    def close(self) -> None:
        """Stop the sandboxes no drill took, wait for every stop; the first error of a stop is raised."""
        for fut in self._started.values():
            wait([fut])
            if fut.exception() is None:
                self.stop_later(fut.result())
        self._started.clear()
        wait(self._stops)
        self._pool.shutdown(wait=True)
        for fut in self._stops:
            fut.result()


def needed(items: list) -> list[str]:  # type: ignore[type-arg]
    """The drill fixtures the collected items use."""
    used = {name for item in items for name in getattr(item, "fixturenames", ())}
    return [name for name in DRILL_FIXTURES if name in used]
