"""Tolerances of the §7 audit checks; defaults are the runbook's, overridable by ``OPSCHECK_AUDIT_*`` env vars
(validated with every other setting by ``ops_checks/core/settings.py`` and read from ``Target.thresholds``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ops_checks.access.config import Target, Thresholds


@dataclass(frozen=True)
class AuditSettings:
    window_days: int = 30  # §7.5: the last 30 days
    max_gap_s: int = 300  # longest silence in the decision log while the bot runs
    export_hours: int = 24  # the preflight's export: the last day, up to the last whole minute
    retention_years: int = 7  # §7.1 / §7.6
    max_report_rows: int = 500  # rows attached to a report section (counts always cover every row)

    @classmethod
    def of(cls, thresholds: Thresholds) -> AuditSettings:
        return cls(
            window_days=thresholds.audit_window_days,
            max_gap_s=thresholds.audit_max_gap_s,
            export_hours=thresholds.audit_export_hours,
            retention_years=thresholds.audit_retention_years,
            max_report_rows=thresholds.audit_max_report_rows,
        )

    @classmethod
    def of_target(cls, t: Target) -> AuditSettings:
        """The target's (validated) audit settings."""
        return cls.of(t.thresholds)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuditSettings:
        """``env``'s ``OPSCHECK_AUDIT_*`` values; a malformed one is a ConfigError (one line), never the default."""
        return cls.of(Thresholds.from_env(env))

    def export_range(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        end = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
        return end - timedelta(hours=self.export_hours), end
