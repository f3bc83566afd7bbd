"""Throwaway Postgres for the sandbox target.

Provisioning order (DESIGN.md §3): a server DSN from ``OPSCHECK_SANDBOX_DSN``; testcontainers when a Docker
engine answers a ping within 2 s (image ``OPSCHECK_SANDBOX_PG_IMAGE``, default ``postgres:15-alpine``: a failure
to pull or start it is a ProvisionError, never a quiet fall-back); else a throwaway cluster from local server
binaries, run as an unprivileged user when we are root (initdb and pg_ctl refuse to run as root).

Whatever the server, each sandbox session gets its own database and its own application role, so sessions
sharing one server (the suite's fault matrix does) never see each other's faults.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ops_checks.access.install.opscheck import SCHEMA_SQL as OPSCHECK_SCHEMA  # the suite's own tables

SCHEMA_DIR = Path(__file__).with_name("schema")  # the reference model of TRADE_BOT's migrations 001-026
SEED = Path(__file__).with_name("seed.sql")
BOT_ROLE = "app_trading"
DSN_ENV = "OPSCHECK_SANDBOX_DSN"
MIGRATIONS_ENV = "OPSCHECK_SANDBOX_MIGRATIONS"  # set by `opscheck preflight --migrations DIR` for its pytest run
IMAGE_ENV = "OPSCHECK_SANDBOX_PG_IMAGE"  # the testcontainers path's image (any with the official image's env)
DEFAULT_IMAGE = "postgres:15-alpine"  # what TRADE_BOT's compose files run
UNPRIVILEGED_USERS = ("postgres", "nobody")


class ProvisionError(RuntimeError):
    """The sandbox database could not be provisioned; str() is a one-line reason."""


@dataclass
class Server:
    """A Postgres server we may create databases and roles on (admin DSN), and how it was obtained."""

    admin_dsn: str
    kind: str  # "dsn" | "testcontainers" | "local-cluster"
    _stop: object = None
    image: str = ""  # testcontainers: the image the server runs from

    def stop(self) -> None:
        if callable(self._stop):
            self._stop()

    def describe(self) -> dict[str, str]:
        """Which Postgres this is, for the run's record (never the DSN: it holds the password)."""
        return {"kind": self.kind} | ({"image": self.image} if self.image else {})


@dataclass(frozen=True)
class Database:
    """One session's database: its connection parameters for the application role and for the admin."""

    host: str
    port: int
    name: str
    user: str
    password: str
    admin_dsn: str

    @property
    def app_dsn(self) -> str:
        return make_conninfo(
            host=self.host, port=self.port, dbname=self.name, user=self.user, password=self.password, connect_timeout=3
        )

    @property
    def admin_db_dsn(self) -> str:
        params = conninfo_to_dict(self.admin_dsn)
        params["dbname"] = self.name
        return make_conninfo("", **params)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_bindir() -> Path | None:
    """Server binaries: ``pg_config --bindir``, then PATH, then /usr/lib/postgresql/*/bin (newest first)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=5, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (subprocess.SubprocessError, OSError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    return None


def docker_answers(timeout_s: float = 2.0) -> bool:
    """A Docker engine ping bounded to ``timeout_s`` (testcontainers alone can hang ~60 s without one)."""
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False  # docker.from_env() has no other endpoint: no engine, and no import of docker (~0.1 s of CPU)
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=timeout_s)
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False


def image() -> str:
    """The testcontainers path's Postgres image: ``$OPSCHECK_SANDBOX_PG_IMAGE``, else ``postgres:15-alpine``."""
    return os.environ.get(IMAGE_ENV, "").strip() or DEFAULT_IMAGE


def start_testcontainer() -> Server:
    """Postgres in a container on the Docker engine that answered. ProvisionError (one line naming the image) when it
    cannot be pulled or started, or never answers; a container that started is removed again."""
    name = image()
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer  # older testcontainers
        except ImportError:
            raise ProvisionError(
                "a Docker engine answered but testcontainers is not installed: ops-checks[sandbox]"
            ) from None
    # a random admin password: it becomes a secret the run masks everywhere (testcontainers' default is "test")
    container = PostgresContainer(
        name, username="postgres", password=secrets.token_hex(16), dbname="postgres", driver=None
    )
    try:
        container.start()
        dsn = make_conninfo(
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(5432)),
            user=container.username,
            password=container.password,
            dbname=container.dbname,
            connect_timeout=3,
        )
    except Exception as exc:  # noqa: BLE001 - docker/testcontainers raise many kinds; each is one line here
        with suppress(Exception):
            container.stop()
        said = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ProvisionError(
            f"container {name} did not start (a Docker engine answered; {IMAGE_ENV} names the image): {said}"
        ) from None
    return Server(dsn, "testcontainers", container.stop, image=name)


def _run_as(user: str | None, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    extra: dict[str, Any] = {}
    if user is not None:
        pw = pwd.getpwnam(user)
        extra = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60, **extra, **kw)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise ProvisionError(f"{Path(argv[0]).name} failed: {last[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProvisionError(f"{Path(argv[0]).name} timed out") from exc


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ProvisionError("running as root and no unprivileged user (postgres, nobody) to run initdb as")


CACHE_ENV = "OPSCHECK_SANDBOX_CACHE_DIR"  # the initialised cluster kept between runs (default ~/.cache/opscheck)
# max_wal_size: the cluster may live in RAM (scratch_dir), and every CREATE DATABASE … TEMPLATE writes the template's
# ~10 MB to WAL; checkpoints are cheap with fsync off, so WAL is recycled early instead of growing towards 1 GB
# password_encryption=md5 (with md5 in pg_hba for TCP): SCRAM's 4,096 PBKDF2 rounds cost ~3 ms of CPU per connection
# on the two ends together, and a preflight opens ~230 connections (a test run ~20,000). Outcomes do not depend on
# it: a wrong or stale password is refused either way. The bot's own deployment (postgres:15) keeps SCRAM.
CLUSTER_OPTS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    " -c max_wal_size=96MB -c min_wal_size=32MB -c password_encryption=md5"
)
SCRATCH_ENV = "OPSCHECK_SANDBOX_SCRATCH"  # where throwaway clusters live; default: /dev/shm when roomy, else $TMPDIR
_RAM_DIR, _RAM_MIN_FREE = Path("/dev/shm"), 1 << 30


def scratch_dir() -> Path | None:
    """Where a throwaway cluster's directory goes: ``$OPSCHECK_SANDBOX_SCRATCH`` when set; else ``/dev/shm`` when it
    is a writable directory with at least 1 GiB free (RAM: a cluster's copy and each new database write ~1,500 small
    files, ~1 ms each on a virtual disk, ~0.04 ms in RAM); else None, the temporary directory."""
    if explicit := os.environ.get(SCRATCH_ENV):
        return Path(explicit)
    try:
        free = os.statvfs(_RAM_DIR)
    except OSError:
        return None
    roomy = free.f_bavail * free.f_frsize >= _RAM_MIN_FREE
    return _RAM_DIR if roomy and os.access(_RAM_DIR, os.W_OK | os.X_OK) else None


def cache_dir() -> Path:
    """``$OPSCHECK_SANDBOX_CACHE_DIR`` as given, else ``opscheck`` under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opscheck"


def _cluster_key(bindir: Path) -> str:
    """The cached cluster's revision: the server binaries (path, size, mtime) and the schema in its template."""
    postgres_bin = bindir / "postgres"
    stat = postgres_bin.stat() if postgres_bin.exists() else None
    mark = f"{bindir}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}|{_schema_fingerprint()}|2"
    return "cluster-" + hashlib.sha256(mark.encode()).hexdigest()[:16]


@dataclass
class _Cluster:
    bindir: Path
    user: str | None
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    def pg_ctl(self, *args: str) -> None:
        _run_as(self.user, [str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], cwd=str(self.root))

    def start(self, port: int) -> None:
        opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={self.sock} {CLUSTER_OPTS}"
        self.pg_ctl("-o", opts, "-l", str(self.root / "server.log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "immediate") -> None:
        try:
            self.pg_ctl("-m", mode, "-w", "stop")
        except ProvisionError:
            pass

    def set_password(self, port: int) -> str:
        """A new random admin password for this run, set over the local socket (trust)."""
        password = secrets.token_hex(16)
        dsn = make_conninfo(host=str(self.sock), port=port, user="postgres", dbname="postgres", connect_timeout=5)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(password)))
        return password


def _new_root(user: str | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="opscheck-pg-", dir=scratch_dir()))
    (root / "sock").mkdir()
    _chown(root, user, recursive=True)
    root.chmod(0o700)
    return root


def _chown(path: Path, user: str | None, *, recursive: bool = False) -> None:
    if user is None:
        return
    pw = pwd.getpwnam(user)
    paths = [path, *path.rglob("*")] if recursive else [path]
    for p in paths:
        os.chown(p, pw.pw_uid, pw.pw_gid, follow_symlinks=False)


def _initdb(cluster: _Cluster) -> None:
    pwfile = cluster.root / "pw"
    pwfile.write_text(secrets.token_hex(16))  # replaced by set_password before any TCP connection
    _chown(pwfile, cluster.user)
    _run_as(
        cluster.user,
        [
            str(cluster.bindir / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=md5",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        cwd=str(cluster.root),
    )
    pwfile.unlink()


def _from_cache(cluster: _Cluster, key: str) -> bool:
    """Copy the machine's cached cluster (initialised, template database built) into this run's directory."""
    cached = cache_dir() / key
    if not (cached / "PG_VERSION").is_file():
        return False
    try:
        shutil.copytree(cached, cluster.data, symlinks=True)
    except OSError:
        shutil.rmtree(cluster.data, ignore_errors=True)
        return False
    _chown(cluster.data, cluster.user, recursive=True)
    cluster.data.chmod(0o700)
    return True


def _save_to_cache(cluster: _Cluster, key: str) -> None:
    """Keep a stopped copy of the cluster for the next runs on this machine (best effort: a read-only or full
    cache directory only means the next run initialises its own cluster again)."""
    base = cache_dir()
    try:
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=base))
        shutil.copytree(
            cluster.data,
            staging / "data",
            symlinks=True,
            ignore=shutil.ignore_patterns("postmaster.pid", "postmaster.opts"),
        )
        try:
            os.rename(staging / "data", base / key)  # atomic: a concurrent builder's copy wins or ours does
        except OSError:
            pass
        shutil.rmtree(staging, ignore_errors=True)
        for old in base.glob("cluster-*"):
            if old.name != key:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return


def _start_local_cluster() -> Server:
    """A throwaway cluster in a temporary directory. The first run on a machine initialises it and builds the
    template database, then keeps a stopped copy in the cache (``cache_dir()``); later runs copy that (about
    0.2 s, against 2-4 s for initdb and the schema) and give it a fresh random admin password."""
    bindir = find_bindir()
    if bindir is None:
        raise ProvisionError("no Postgres server binaries found (pg_config --bindir, PATH, /usr/lib/postgresql/*/bin)")
    user = _unprivileged_user()
    cluster = _Cluster(bindir, user, _new_root(user))
    key = _cluster_key(bindir)
    cached = _from_cache(cluster, key)
    if not cached:
        _initdb(cluster)
    port = free_port()
    try:
        cluster.start(port)
        password = cluster.set_password(port)
    except BaseException:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise

    def stop() -> None:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)

    dsn = make_conninfo(
        host="127.0.0.1", port=port, user="postgres", password=password, dbname="postgres", connect_timeout=3
    )
    server = Server(dsn, "local-cluster", stop)
    if not cached:
        try:
            template_database(server)
            cluster.stop("fast")  # a clean shutdown: the copy needs no recovery
            _save_to_cache(cluster, key)
            cluster.start(port)
        except BaseException:
            stop()
            raise
    return server


def start_server() -> Server:
    """Obtain a server in the documented order."""
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        return Server(dsn, "dsn")
    if docker_answers():
        return start_testcontainer()
    return _start_local_cluster()


class MigrationError(ProvisionError):
    """An operator's migration file failed; str() names the file and the first line of the error."""


def migrations_from_env() -> Path | None:
    """The operator's migration directory for this sandbox run (``--migrations``), else None (reference schema)."""
    value = os.environ.get(MIGRATIONS_ENV)
    return Path(value) if value else None


def migration_files(directory: Path) -> list[Path]:
    """``DIR/*.sql`` in lexical order, as docker-entrypoint-initdb.d applies them."""
    if not directory.is_dir():
        raise MigrationError(f"--migrations {directory}: not a directory")
    files = sorted(p for p in directory.glob("*.sql") if p.is_file())
    if not files:
        raise MigrationError(f"--migrations {directory}: no *.sql files")
    return files


def apply_sql_files(dsn: str, files: list[Path]) -> None:
    """Apply each file in its own transaction; stop at the first error (psql -v ON_ERROR_STOP=1)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for path in files:
            try:
                with conn.transaction():
                    conn.execute(path.read_text())
            except psycopg.Error as exc:
                raise MigrationError(f"migration {path.name} failed: {str(exc).splitlines()[0]}") from exc


# What the bot's role must be able to do for the runbook's commands and the bot's own writes (runbook 1.1.4,
# 4.3, 7.3 read policy_decision_audit as app_trading; the bot records its decisions, orders and events through it).
REQUIRED_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "policy_decision_audit": ("SELECT", "INSERT"),
    "system_settings": ("SELECT", "UPDATE"),
    "circuit_breaker_events": ("SELECT", "INSERT"),
    "signals": ("SELECT", "INSERT"),
    "trading_orders": ("SELECT", "INSERT"),
}


def privilege_gaps(dsn: str, role: str = BOT_ROLE) -> list[str]:
    """One phrase per table the bot's role cannot use as the runbook needs ("app_trading lacks SELECT, INSERT on
    policy_decision_audit"; "table X missing"). Empty when everything fits."""
    gaps: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table, privileges in REQUIRED_PRIVILEGES.items():
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone()
            if not row or not row[0]:
                gaps.append(f"table {table} missing")
                continue
            lacking = []
            for privilege in privileges:
                has = conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, f"public.{table}", privilege))
                if not (has.fetchone() or (False,))[0]:
                    lacking.append(privilege)
            if lacking:
                gaps.append(f"{role} lacks {', '.join(lacking)} on {table}")
    return gaps


TEMPLATE_PREFIX = "opscheck_template_"  # one per server and schema revision: the reference schema + opscheck
_TEMPLATE_LOCK = 0x6F70_7363  # pg_advisory_lock key: one builder of the template per server at a time
_TEMPLATES: set[tuple[str, str]] = set()  # (admin DSN, template name) this process knows exist
_STRATEGY: dict[str, str] = {}  # admin DSN -> how CREATE DATABASE copies the template there ("" the default)


def _ram_backed(path: str, mounts_text: str | None = None) -> bool:
    """Whether ``path`` lies on a tmpfs/ramfs mount (the longest mount point containing it, from /proc/mounts)."""
    try:
        text = Path("/proc/mounts").read_text() if mounts_text is None else mounts_text
    except OSError:
        return False
    mounts = [line.split()[1:3] for line in text.splitlines()]
    best = max(
        (m for m in mounts if len(m) == 2 and Path(path).is_relative_to(m[0])), key=lambda m: len(m[0]), default=None
    )
    return best is not None and best[1] in ("tmpfs", "ramfs")


def _copy_strategy(conn: psycopg.Connection[Any], admin_dsn: str) -> sql.Composable:
    """`` STRATEGY FILE_COPY`` when the server's data directory is in RAM (copying ~570 files there costs half the
    CPU of writing the template through the WAL, and its two checkpoints are free with fsync off); else nothing:
    the server's default (WAL_LOG since Postgres 15, faster on a disk; before 15 there is no choice)."""
    if admin_dsn not in _STRATEGY:
        in_ram = False
        if conn.info.server_version >= 150000:
            with suppress(psycopg.Error):  # not allowed to read it: the server's default
                row = conn.execute("SELECT current_setting('data_directory', true)").fetchone()
                in_ram = bool(row and row[0] and _ram_backed(str(row[0])))
        _STRATEGY[admin_dsn] = " STRATEGY FILE_COPY" if in_ram else ""
    return sql.SQL(_STRATEGY[admin_dsn])


def _schema_fingerprint() -> str:
    """The reference schema's revision (file names and contents, the opscheck schema included)."""
    digest = hashlib.sha256()
    for path in [*sorted(SCHEMA_DIR.glob("*.sql")), OPSCHECK_SCHEMA]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def template_database(server: Server) -> str:
    """The server's template database holding the reference schema and the ``opscheck`` schema (no seed: the
    seed's times are relative to now(); ``seeded_template`` keeps a short-lived seeded copy). Built once per server
    and schema revision, under an advisory lock (sessions on one server may race), under a build name renamed into
    place only when complete; then marked a template that accepts no connections (a connection would block cloning)."""
    name = TEMPLATE_PREFIX + _schema_fingerprint()
    if (server.admin_dsn, name) in _TEMPLATES:
        return name
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATE_LOCK,))
        try:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                _build_template(conn, server, name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_TEMPLATE_LOCK,))
    _TEMPLATES.add((server.admin_dsn, name))
    return name


def _build_template(conn: psycopg.Connection, server: Server, name: str) -> None:
    building = name + "_build"
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))  # a crash's
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
    params = conninfo_to_dict(server.admin_dsn)
    params["dbname"] = building
    dsn = make_conninfo("", **params)
    try:
        apply_sql_files(dsn, sorted(SCHEMA_DIR.glob("*.sql")))
        _ensure_bot_role(dsn)
        install_opscheck(dsn, grant_to=BOT_ROLE)
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name)))
        conn.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(name))
        )
    except BaseException:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))
        raise


# The seeded template (one per server, re-made when stale): the seed applied once to a copy of the schema template,
# then each seeded database a copy of that instead of ~1,445 hash-chained inserts (~225 ms of the server's CPU each;
# a preflight makes five seeded databases: its own and one per drill). The seed's times are relative to its now(),
# so a copy is as old as its template: one is used only while younger than SEEDED_MAX_AGE_S, and the checks cannot
# tell. Every window a check, fault or drill applies to the seed's rows has a margin of minutes or more over the seed's
# own offsets, except the MISSING_DAY fault's older history (it ends 24 h 6 min before its now(), the seed begins
# 24 h 5 min before the seed's now(): the minute between takes the template's age plus the time until the fault is
# applied; were they to overlap by seconds, no day, gap or inception would change). 30 s keeps half of that minute;
# benchmarks/README.md (issue 23 §6, second round) lists the windows.
SEEDED_PREFIX = "opscheck_seeded_"  # + schema-and-seed fingerprint + "_" + the server's epoch (ms) before seeding
SEEDED_MAX_AGE_S = 30.0
SEEDED_DROP_AFTER_S = 600.0  # stale seeded templates are dropped once this old (no clone can still be starting)
_SEEDED_LOCK = _TEMPLATE_LOCK + 1  # pg_advisory_lock key: one builder of a seeded template per server at a time


def _seeded_fingerprint() -> str:
    return hashlib.sha256((_schema_fingerprint() + "\0").encode() + SEED.read_bytes()).hexdigest()[:16]


# seeded templates with their age in seconds by the server's clock (the name's epoch; NULL for a foreign name)
_SEEDED = """
SELECT datname, datistemplate AND NOT datallowconn AS complete,
       extract(epoch FROM clock_timestamp()) - ms / 1000.0 AS age_s
FROM (SELECT datname, datistemplate, datallowconn,
             CASE WHEN right(datname, 13) ~ '^[0-9]{13}$' THEN right(datname, 13)::bigint END AS ms
      FROM pg_database WHERE starts_with(datname, %s)) AS d
WHERE ms IS NOT NULL
ORDER BY ms DESC"""


def _fresh_seeded(conn: psycopg.Connection[Any], prefix: str) -> str | None:
    """The newest complete seeded template (marked a template, closed to connections) younger than the bound."""
    for name, complete, age_s in conn.execute(_SEEDED, (prefix,)).fetchall():
        if complete and 0 <= float(age_s) < SEEDED_MAX_AGE_S:
            return str(name)
    return None


def _drop_stale_seeded(conn: psycopg.Connection[Any]) -> None:
    """Best effort: seeded templates (any fingerprint) older than SEEDED_DROP_AFTER_S; a template being cloned or
    dropped by another session is left for a later call."""
    rows = [r[0] for r in conn.execute(_SEEDED, (SEEDED_PREFIX,)).fetchall() if float(r[2]) > SEEDED_DROP_AFTER_S]
    for name in rows:
        with suppress(psycopg.Error):
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def seeded_template(conn: psycopg.Connection[Any], server: Server, base: str) -> str:
    """A seeded template younger than SEEDED_MAX_AGE_S on this server (``conn``: its admin connection), made from
    the schema template ``base`` when there is none: under an advisory lock (sessions on one server may race),
    marked a template closed to connections only when complete (until then no session picks it). Nobody can connect
    to it, so no session's fault ever reaches it; a session's database is a copy, broken (or not) after copying."""
    prefix = SEEDED_PREFIX + _seeded_fingerprint() + "_"
    if found := _fresh_seeded(conn, prefix):
        return found
    conn.execute("SELECT pg_advisory_lock(%s)", (_SEEDED_LOCK,))
    try:
        if found := _fresh_seeded(conn, prefix):
            return found
        _drop_stale_seeded(conn)
        row = conn.execute("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").fetchone()
        name = f"{prefix}{int(row[0]) if row else 0:013d}"  # before the seed's now(): its age is never understated
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                sql.Identifier(name), sql.Identifier(base), _copy_strategy(conn, server.admin_dsn)
            )
        )
        try:
            params = conninfo_to_dict(server.admin_dsn)
            params["dbname"] = name
            apply_sql_files(make_conninfo("", **params), [SEED])
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(name))
            )
        except BaseException:
            with suppress(psycopg.Error):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            raise
        return name
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_SEEDED_LOCK,))


def _ensure_bot_role(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BOT_ROLE,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(BOT_ROLE)))


def create_database(server: Server, *, seed: bool = True, migrations: Path | None = None) -> Database:
    """Create this session's database and login role, then the bot's schema (the reference model, or the
    operator's own migration files), the suite's ``opscheck`` schema and the seed data.

    The reference model comes from the server's template database (``template_database``: built once, then each
    database is a copy, ~10x faster than applying the schema), a seeded one from the server's seeded template
    while it is fresh (``seeded_template``); the operator's migrations are applied file by file, then the seed.
    The session's role is a member of ``app_trading``: it has exactly the privileges the schema grants the
    bot's role in this database, nothing more.
    """
    tag = secrets.token_hex(4)
    name, role, password = f"autonomous_alpha_{tag}", f"app_trading_{tag}", secrets.token_urlsafe(24)
    params = conninfo_to_dict(server.admin_dsn)
    try:
        template = template_database(server) if migrations is None else None
        seeded = False  # whether the copy holds the seed already (the seeded template's)
        with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
            if (
                migrations is not None
                and not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'autonomous_alpha'").fetchone()
            ):
                name = "autonomous_alpha"  # the bot's migrations name their database (GRANT CONNECT ON DATABASE …)
            if template is not None and seed:
                template = seeded_template(conn, server, template)
                seeded = True
            if template is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                        sql.Identifier(name), sql.Identifier(template), _copy_strategy(conn, server.admin_dsn)
                    )
                )
        db = Database(
            host=str(params.get("host", "127.0.0.1")),
            port=int(params.get("port") or 5432),
            name=name,
            user=role,
            password=password,
            admin_dsn=server.admin_dsn,
        )
        if migrations is not None:
            apply_sql_files(db.admin_db_dsn, migration_files(migrations))
            _ensure_bot_role(db.admin_db_dsn)
        with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(role), sql.Literal(password), sql.Identifier(BOT_ROLE)
                )
            )
        if migrations is not None:
            install_opscheck(db.admin_db_dsn, grant_to=BOT_ROLE)
        gaps = privilege_gaps(db.admin_db_dsn) if migrations is not None else []
        also = f"; also {'; '.join(gaps)}" if gaps else ""
        if seed and not seeded:
            try:
                apply_sql_files(db.admin_db_dsn, [SEED])
            except MigrationError as exc:
                raise MigrationError(f"the sandbox seed does not fit this schema: {exc}{also}") from exc
        if gaps:
            raise MigrationError(f"the schema does not fit the runbook: {'; '.join(gaps)}")
    except MigrationError:
        drop_database_named(server.admin_dsn, name, role)
        raise
    except psycopg.Error as exc:
        drop_database_named(server.admin_dsn, name, role)
        raise ProvisionError(f"could not create the sandbox database: {str(exc).splitlines()[0]}") from exc
    except BaseException:  # interrupted (Ctrl-C, SIGTERM) half-way: leave nothing behind
        drop_database_named(server.admin_dsn, name, role)
        raise
    return db


def install_opscheck(admin_dsn: str, *, grant_to: str) -> None:
    """Create the suite's own schema (idempotent) and grant the bot's role what the suite's records need."""
    from ops_checks.access.install.opscheck import install

    install(admin_dsn, grant_to=grant_to)


def drop_database_named(admin_dsn: str, name: str, role: str) -> None:
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    except psycopg.Error:
        pass


def drop_database(db: Database) -> None:
    drop_database_named(db.admin_dsn, db.name, db.user)


@contextmanager
def sandbox_database(seed: bool = True) -> Iterator[tuple[Server, Database]]:
    server = start_server()
    try:
        db = create_database(server, seed=seed)
        try:
            yield server, db
        finally:
            drop_database(db)
    finally:
        server.stop()
