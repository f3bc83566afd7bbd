"""Tolerances of the §7 audit checks; defaults are the runbook's, overridable by ``OPSCHECK_AUDIT_*`` env vars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class AuditSettings:
    window_days: int = 30  # §7.5: the last 30 days
    max_gap_s: int = 300  # longest silence in the decision log while the bot runs
    export_hours: int = 24  # the preflight's export: the last day, up to the last whole minute
    retention_years: int = 7  # §7.1 / §7.6
    max_report_rows: int = 500  # rows attached to a report section (counts always cover every row)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuditSettings:
        values: dict[str, int] = {}
        for f in fields(cls):
            raw = env.get(f"OPSCHECK_AUDIT_{f.name.upper()}")
            if raw:
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    continue  # a malformed override keeps the runbook's default
        return cls(**values)

    def export_range(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        end = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
        return end - timedelta(hours=self.export_hours), end
