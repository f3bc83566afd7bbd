"""Live fail-fast (issue 16): each distinct host is probed once, together; later requests to a host that timed
out fail at once, naming the earlier timeout, instead of waiting again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_checks.access import db
from ops_checks.access.config import live_target, load_env
from ops_checks.checks import reachability
from ops_checks.core import http
from ops_checks.core.http import HttpError, Recorder
from tests.test_live_target import env_file, hung_port  # noqa: F401 - hung_port is a fixture


def test_probe_names_each_dead_host_and_later_requests_fail_at_once(
    tmp_path: Path,
    hung_port: int,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "_TIMED_OUT", {})
    monkeypatch.setattr(db, "_TIMED_OUT", {})
    target = live_target(load_env(env_file(tmp_path, hung_port, hung_port)), allow_mutations=False)
    probes = {p.name: p.problem for p in reachability.probe(target)}
    # the bot API and VALR share the hung host and port: one probe; metrics and Grafana share the closed port
    assert set(probes) == {"database", "bot API", "metrics"}
    assert all(probes.values()), probes
    assert "timed out" in (probes["bot API"] or "") and "refused" in (probes["metrics"] or "").lower()
    with pytest.raises(HttpError, match="earlier in this run"):
        http.request("GET", f"http://127.0.0.1:{hung_port}/v1/public/time", recorder=Recorder(target.redactor))
    assert any(str(hung_port) in server for server in db._TIMED_OUT)  # noqa: SLF001
