"""What of the container work is checkable without containers (scripts/container-check.sh runs the rest): the
testcontainers image setting and its one-line failure, which Postgres verdict.json records, the Docker API stand-in
for `docker ps`, and the shape of the Containerfile, the lock and the compose and workflow files."""

from __future__ import annotations

import re
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ops_checks.checks.s1_preconditions import infra
from ops_checks.checks.s8_clock_drift import ntp
from ops_checks.cli import app as cli_app
from ops_checks.core.result import Status
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_image_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(postgres.IMAGE_ENV, raising=False)
    assert postgres.image() == "postgres:15-alpine"
    monkeypatch.setenv(postgres.IMAGE_ENV, "  ")
    assert postgres.image() == "postgres:15-alpine"
    monkeypatch.setenv(postgres.IMAGE_ENV, "localhost/postgres:15-standin")
    assert postgres.image() == "localhost/postgres:15-standin"


class _FailingContainer:
    """testcontainers' PostgresContainer whose start fails as a pull does (a long, multi-line message)."""

    instances: list[_FailingContainer] = []

    def __init__(self, image: str, **kw: Any) -> None:
        self.image, self.kw, self.stopped = image, kw, False
        _FailingContainer.instances.append(self)

    def start(self) -> None:
        raise RuntimeError('404 Client Error: Not Found ("failed to find image")\n  more detail\n  and more')

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def failing_container(monkeypatch: pytest.MonkeyPatch) -> type[_FailingContainer]:
    module = types.ModuleType("testcontainers.community.postgres")
    module.PostgresContainer = _FailingContainer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "testcontainers.community.postgres", module)
    _FailingContainer.instances.clear()
    return _FailingContainer


def test_a_container_that_does_not_start_is_one_line_naming_the_image(
    monkeypatch: pytest.MonkeyPatch, failing_container: type[_FailingContainer]
) -> None:
    monkeypatch.setenv(postgres.IMAGE_ENV, "localhost/nope:15")
    with pytest.raises(postgres.ProvisionError) as err:
        postgres.start_testcontainer()
    said = str(err.value)
    assert "\n" not in said and "localhost/nope:15" in said and "failed to find image" in said
    (container,) = failing_container.instances
    assert container.stopped  # nothing left behind
    assert container.kw["password"] != "test" and len(container.kw["password"]) >= 16  # masked everywhere: random


def test_docker_answering_but_no_container_is_exit_2_one_line_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failing_container: type[_FailingContainer]
) -> None:
    monkeypatch.delenv(postgres.DSN_ENV, raising=False)
    monkeypatch.setattr(postgres, "docker_answers", lambda timeout_s=2.0: True)

    def no_local_cluster() -> postgres.Server:
        raise AssertionError("fell back to local server binaries")

    monkeypatch.setattr(postgres, "_start_local_cluster", no_local_cluster)
    r = CliRunner().invoke(cli_app.app, ["preflight", "--reports", str(tmp_path / "reports")])
    said = f"{r.stdout}{r.stderr}".strip()
    assert r.exit_code == 2, said
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert len(said.splitlines()) == 1 and "postgres:15-alpine did not start" in said, said
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())  # no run begun


def test_which_postgres_the_sandbox_used(monkeypatch: pytest.MonkeyPatch) -> None:
    started = postgres.Server("host=h password=secret", "testcontainers", image="localhost/postgres:15-standin")
    assert started.describe() == {"kind": "testcontainers", "image": "localhost/postgres:15-standin"}
    assert "secret" not in str(postgres.Server("password=secret", "dsn").describe())
    monkeypatch.setenv(postgres.DSN_ENV, "host=db")
    assert cli_app._sandbox_postgres_kind() == {"kind": "dsn"}
    monkeypatch.delenv(postgres.DSN_ENV)
    assert cli_app._sandbox_postgres_kind() == {"kind": "local-cluster"}
    assert cli_app._container_server("live") is None  # never for a live run


def test_docker_ps_without_the_cli_names_the_socket_to_mount(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(infra.shutil, "which", lambda name: None)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(infra, "DOCKER_SOCKET", tmp_path / "docker.sock")
    with pytest.raises(infra.ServicesError) as err:
        infra.docker_services()
    assert "docker.sock" in err.value.cause.remedy and "mount" in err.value.cause.remedy


def test_docker_ps_through_the_docker_api(monkeypatch: pytest.MonkeyPatch) -> None:
    class Container:
        def __init__(self, name: str, status: str, health: str | None) -> None:
            self.name, self.status = name, status
            self.attrs = {"State": {"Health": {"Status": health}} if health else {}}

    class Client:
        containers = types.SimpleNamespace(
            list=lambda all: [Container("autonomous_alpha_bot", "running", "healthy"), Container("db", "exited", None)]
        )

        def close(self) -> None:
            pass

    fake = types.ModuleType("docker")
    fake.from_env = lambda timeout: Client()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "docker", fake)
    monkeypatch.setattr(infra.shutil, "which", lambda name: None)
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert [(s.name, s.state, s.health) for s in infra.docker_services()] == [
        ("autonomous_alpha_bot", "running", "healthy"),
        ("db", "exited", "none"),
    ]


def test_ntp_in_a_container_says_what_to_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ntp.IN_CONTAINER_ENV, "1")
    result = ntp._no_tool(["timedatectl: not installed"])
    assert result.status == Status.NOT_VERIFIED
    assert result.cause is not None and "NTP_TOOLS_PATH" in result.cause.remedy and "mount" in result.cause.remedy


def _stages(text: str) -> dict[str, str]:
    """Each stage's text by its name (FROM … AS name)."""
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_containerfile_shape() -> None:
    text = (REPO / "Containerfile").read_text()
    assert re.search(r"^ARG BASE=python:3\.\d+-slim", text, re.M)
    stages = _stages(text)
    assert {"base", "build", "runtime", "sandbox", "suite"} <= set(stages)
    assert list(stages)[-1] == "suite"  # the default target
    runtime = stages["runtime"]
    assert 'ENTRYPOINT ["opscheck"]' in runtime and 'VOLUME ["/reports"]' in runtime
    assert "org.opencontainers.image.version" in runtime
    for target in ("sandbox", "suite"):
        users = re.findall(r"^USER\s+(\S+)", stages[target], re.M)
        assert users and users[-1].split(":")[0] not in ("root", "0"), target
    assert "postgresql-${PG_MAJOR}" in stages["sandbox"] and "ARG PG_MAJOR=15" in stages["sandbox"]
    build = stages["build"]
    assert "--require-hashes" in build and "requirements.lock" in build and "pip wheel" in build
    assert set(re.findall(r"^ARG VERSION=(\S+)", text, re.M)) == {PYPROJECT["project"]["version"]}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    text = (REPO / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    names = {name.lower() for name, _, _ in pins}
    assert len(pins) == len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M))  # every pin has its hashes
    wanted = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["sandbox"]
    assert sorted(_name(r) for r in wanted if _name(r) not in names) == []


def test_compose_override_beside_the_bots_stack() -> None:
    spec = yaml.safe_load((REPO / "deploy" / "compose.opscheck.yml").read_text())
    svc = spec["services"]["opscheck"]
    assert svc["networks"] == ["sovereign_network"] and "depends_on" not in svc  # never starts the bot
    env = svc["environment"]
    assert env["DB_HOST"] == "db" and env["DB_PORT"] == "5432" and env["BOT_API_URL"] == "http://bot:8080"
    targets = {v.rsplit("}", 1)[-1].split(":")[1] if "}" in v else v.split(":")[1] for v in svc["volumes"]}
    assert {"/config/.env", "/reports", "/anchor", env["LOG_DIR"], "/var/run/docker.sock"} <= targets
    assert env["OPSCHECK_SIGNOFF_ANCHOR"].startswith("/anchor/")
    header = (REPO / "deploy" / "compose.opscheck.yml").read_text()
    assert "preflight --target live --env-file /config/.env" in header and "--allow-mutations" in header


def test_ci_compose_in_the_shape_of_the_bots_test_stack() -> None:
    spec = yaml.safe_load((REPO / "deploy" / "ci" / "compose.ci.yml").read_text())
    pg, suite = spec["services"]["postgres"], spec["services"]["opscheck"]
    assert pg["image"].endswith("postgres:15-alpine}") and pg["environment"]["POSTGRES_USER"] == "sovereign"
    assert any(v.endswith(":/docker-entrypoint-initdb.d:ro") for v in pg["volumes"])
    assert suite["command"][:3] == ["preflight", "--migrations", "/migrations"]
    assert "postgres:5432" in suite["environment"]["OPSCHECK_SANDBOX_DSN"]
    assert any(v.endswith(":/reports") for v in suite["volumes"])
    assert suite["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_github_workflow() -> None:
    text = (REPO / "deploy" / "ci" / "github-workflow.yml").read_text()
    spec = yaml.safe_load(text)
    job = spec["jobs"]["preflight"]
    assert job["services"]["postgres"]["image"].startswith("postgres:15")
    uploads = [s["with"]["path"] for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert any("html" in p for p in uploads) and any("allure-results" in p for p in uploads)
    assert "GITHUB_STEP_SUMMARY" in text and "jq" in text and "--migrations database/migrations" in text
