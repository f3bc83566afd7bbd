"""Unit tests of the pure parts of the §1 checks: parsing, arithmetic and validity rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.access.db import Db, DbError, QueryLog
from ops_checks.catalogue import ITEMS, id_for_tag, tag_for
from ops_checks.checks.s1_preconditions import limits, logs
from ops_checks.checks.s1_preconditions.infra import settings_row_problems
from ops_checks.core import http
from ops_checks.core.redaction import Redactor


@pytest.mark.parametrize(("raw", "value"), [("5000", "5000"), ("R5,000", "5000"), ("5 000.50", "5000.50")])
def test_parse_zar(raw: str, value: str) -> None:
    assert limits.parse_zar(raw) == Decimal(value)


@pytest.mark.parametrize(
    "raw", ["five", "NaN", "Infinity", "", "5e", "٣", "1_000", "0x10", "1e-999999", "1e999", "R5,000.5.5"]
)
def test_parse_zar_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        limits.parse_zar(raw)


def test_log_line_parsing_handles_zones_and_nanoseconds() -> None:
    line = logs.parse_line("2026-11-22T10:00:00.123456789Z INFO [HEALTH] health_status=GREEN", "bot.log")
    assert line is not None and line.at == datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    shifted = logs.parse_line("2026-11-22 12:00:00+02:00 INFO x", "bot.log")
    assert shifted is not None and shifted.at.hour == 10
    assert logs.parse_line("no timestamp here", "bot.log") is None


def test_settings_rules() -> None:
    now = datetime.now(UTC)
    good = {
        "daily_loss_limit_pct": Decimal("0.03"),
        "max_consecutive_losses": 3,
        "daily_pnl_zar": Decimal(0),
        "consecutive_losses": 0,
        "daily_pnl_reset_at": now - timedelta(hours=2),
        "daily_starting_equity_zar": Decimal("100000"),
        "circuit_breaker_active": False,
    }
    assert settings_row_problems(good, now, timedelta(hours=26)) == []
    stale = good | {"daily_pnl_reset_at": now - timedelta(days=3)}
    assert "not reset for 72 h" in settings_row_problems(stale, now, timedelta(hours=26))[0]
    assert settings_row_problems(good | {"daily_loss_limit_pct": Decimal("3")}, now, timedelta(hours=26))
    assert settings_row_problems(good | {"circuit_breaker_active": True}, now, timedelta(hours=26))
    assert settings_row_problems(good | {"max_consecutive_losses": None}, now, timedelta(hours=26))


def test_tags_round_trip() -> None:
    for item in ITEMS:
        assert id_for_tag(tag_for(item.id)) == item.id
    assert tag_for("sop.4.2") == "sop_4_2" and id_for_tag("sop_daily_1") == "sop.daily.1"


def test_live_target_defaults_and_bad_port(tmp_path: Path) -> None:
    t = live_target({"DB_PASSWORD": "pw-123456"}, allow_mutations=False)
    assert t.db.read_only and t.bot_api_url == "http://localhost:8000" and t.valr_base_url == "https://api.valr.com"
    assert "pw-123456" not in repr(t.db) and "pw-123456" not in str(t.describe())
    with pytest.raises(ConfigError):
        live_target({"DB_PORT": "eighty"}, allow_mutations=False)


def test_env_file_loses_to_environment_and_unreadable_is_config_error(tmp_path: Path) -> None:
    f = tmp_path / ".env"
    f.write_text("A=from-file\nB=file-only\n")
    merged = load_env(f, {"A": "from-env"})
    assert merged["A"] == "from-env" and merged["B"] == "file-only"
    with pytest.raises(ConfigError):
        load_env(tmp_path / "missing.env", {})


def _recorder() -> http.Recorder:
    return http.Recorder(Redactor(["tok-secret-1234"]))


@pytest.mark.parametrize(
    ("exc", "words"), [(httpx.ReadTimeout("slow"), "timed out"), (httpx.ConnectError("refused"), "failed")]
)
def test_http_errors_are_one_line(exc: Exception, words: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    rec = _recorder()
    with pytest.raises(http.HttpError) as err:
        http.request(
            "GET", "http://127.0.0.1:9/x?token=tok-secret-1234", recorder=rec, transport=httpx.MockTransport(boom)
        )
    assert words in str(err.value) and "\n" not in str(err.value)
    assert "tok-secret-1234" not in rec.render()


def test_malformed_json_is_an_http_error() -> None:
    rec = _recorder()
    resp = http.request(
        "GET",
        "http://127.0.0.1:9/x",
        recorder=rec,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>")),
    )
    with pytest.raises(http.HttpError, match="malformed JSON"):
        http.json_body(resp)


def test_query_log_shows_named_params_with_their_values_and_redacts_them() -> None:
    log = QueryLog(Redactor(["tok-secret-1234"]), [])
    log.add("SELECT %(id)s, %(why)s", {"id": 7, "why": "drill tok-secret-1234"}, [])
    log.add("SELECT %s", (42,), None, "boom")
    named, positional = log.entries
    assert "-- params: {'id': 7, 'why': 'drill " in named and "tok-secret-1234" not in named
    assert "-- params: [42]" in positional and "-- ERROR: boom" in positional


class _NoRows:
    """A cursor (and its connection) whose every query returns no row."""

    description = None

    def cursor(self) -> _NoRows:
        return self

    def __enter__(self) -> _NoRows:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: object = None) -> None:
        return None


def test_db_first_is_a_one_line_db_error_when_the_query_returns_no_row() -> None:
    db = Db(_NoRows(), QueryLog(Redactor(), []))  # a stand-in for a psycopg connection
    assert db.one("SELECT 1") is None
    with pytest.raises(DbError, match="^the query returned no row$"):
        db.first("SELECT clock_timestamp() AS at")
