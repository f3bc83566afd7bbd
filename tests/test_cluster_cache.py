"""The local sandbox cluster is initialised once per machine and copied for later runs (issue 16)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from ops_checks.sandbox import postgres


def test_second_cluster_is_a_copy_of_the_cached_one_with_its_own_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(postgres.DSN_ENV, raising=False)
    monkeypatch.setenv(postgres.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(postgres, "docker_answers", lambda timeout_s=2.0: False)
    first = postgres.start_server()
    try:
        cached = list((tmp_path / "cache").glob("cluster-*"))
        assert len(cached) == 1 and (cached[0] / "PG_VERSION").is_file()
        assert not (cached[0] / "postmaster.pid").exists()  # a stopped copy
    finally:
        first.stop()
    marker = cached[0] / "opscheck-copied-marker"
    marker.write_text("from the cache")
    second = postgres.start_server()
    try:
        assert second.kind == "local-cluster"
        template = postgres.TEMPLATE_PREFIX + postgres._schema_fingerprint()  # noqa: SLF001
        with psycopg.connect(second.admin_dsn, autocommit=True) as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
            data_dir = conn.execute("SHOW data_directory").fetchone()
        assert data_dir is not None and (Path(data_dir[0]) / "opscheck-copied-marker").exists()
        assert conninfo_to_dict(second.admin_dsn)["password"] != conninfo_to_dict(first.admin_dsn)["password"]
        stale = dict(conninfo_to_dict(second.admin_dsn), password=conninfo_to_dict(first.admin_dsn)["password"])
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(**stale).close()
    finally:
        second.stop()


def test_cluster_lives_in_the_scratch_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="opscheck-scratch-test-"))  # not tmp_path: the server's user must enter it
    scratch.chmod(0o755)
    monkeypatch.delenv(postgres.DSN_ENV, raising=False)
    monkeypatch.setenv(postgres.SCRATCH_ENV, str(scratch))
    monkeypatch.setattr(postgres, "docker_answers", lambda timeout_s=2.0: False)
    try:
        server = postgres.start_server()
        try:
            with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
                data_dir = conn.execute("SHOW data_directory").fetchone()
            assert data_dir is not None and Path(data_dir[0]).is_relative_to(scratch)
        finally:
            server.stop()
        assert not list(scratch.iterdir())  # the throwaway cluster goes with its server
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_scratch_is_ram_only_when_roomy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(postgres.SCRATCH_ENV, raising=False)
    monkeypatch.setattr(postgres, "_RAM_DIR", tmp_path)
    monkeypatch.setattr(postgres, "_RAM_MIN_FREE", 1)
    assert postgres.scratch_dir() == tmp_path
    monkeypatch.setattr(postgres, "_RAM_MIN_FREE", 1 << 62)  # more than any disk: the temporary directory instead
    assert postgres.scratch_dir() is None
    monkeypatch.setattr(postgres, "_RAM_DIR", tmp_path / "absent")
    assert postgres.scratch_dir() is None


def test_databases_are_file_copies_only_in_ram() -> None:
    mounts = "/dev/vda / ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\ntmpfs /dev/shm/x/disk ext4 rw 0 0\n"
    assert postgres._ram_backed("/dev/shm/opscheck-pg-1/data", mounts)  # noqa: SLF001
    assert not postgres._ram_backed("/tmp/opscheck-pg-1/data", mounts)  # noqa: SLF001
    assert not postgres._ram_backed("/dev/shm/x/disk/data", mounts)  # noqa: SLF001 - the longest mount point wins
