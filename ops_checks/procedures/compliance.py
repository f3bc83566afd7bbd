"""Runbook §7.4 Compliance Report Generation: the monthly report as files an auditor can read offline.

``generate`` runs the runbook's four queries for one UTC month (half-open ``[month, month + 1)``) and writes, into
a directory renamed into place only when complete: ``report.md`` and a self-contained ``report.html`` (with the
daily P&L chart as an inline SVG; ``daily_pnl.svg`` beside it for the markdown), plus one CSV per section.
Nothing is loaded from the network. A FILLED order without a recorded P&L makes the report incomplete.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ops_checks.access.config import DbParams
from ops_checks.access.db import Db, connect
from ops_checks.checks.s7_audit.audit_rows import rows_csv
from ops_checks.core.redaction import Redactor

EXECUTIVE = """
SELECT COUNT(*) FILTER (WHERE policy_decision = 'ALLOW') AS trades_allowed,
       COUNT(*) FILTER (WHERE policy_decision = 'HALT') AS trades_halted,
       COUNT(*) FILTER (WHERE policy_decision = 'NEUTRAL') AS trades_neutral,
       COUNT(*) FILTER (WHERE policy_decision NOT IN ('ALLOW', 'HALT', 'NEUTRAL')) AS other_decisions,
       COUNT(*) AS total_decisions
FROM policy_decision_audit
WHERE timestamp_utc >= %(start)s AND timestamp_utc < %(end)s
"""
KILL_SWITCH = """
SELECT * FROM circuit_breaker_events
WHERE created_at >= %(start)s AND created_at < %(end)s
ORDER BY created_at
"""
OVERRIDES = """
SELECT reason_code, COUNT(*) AS count, ROUND(AVG(CAST(ai_confidence AS DECIMAL)), 2) AS avg_ai_confidence
FROM policy_decision_audit
WHERE timestamp_utc >= %(start)s AND timestamp_utc < %(end)s AND policy_decision IN ('HALT', 'NEUTRAL')
GROUP BY reason_code
ORDER BY count DESC
"""
DAILY_PNL = """
SELECT DATE(created_at) AS date,
       SUM(CASE WHEN realized_pnl_zar > 0 THEN realized_pnl_zar ELSE 0 END) AS gross_profit,
       SUM(CASE WHEN realized_pnl_zar < 0 THEN realized_pnl_zar ELSE 0 END) AS gross_loss,
       COALESCE(SUM(realized_pnl_zar), 0) AS net_pnl,
       COUNT(*) AS trade_count,
       COUNT(*) FILTER (WHERE realized_pnl_zar IS NULL) AS trades_without_pnl
FROM trading_orders
WHERE created_at >= %(start)s AND created_at < %(end)s AND status = 'FILLED'
GROUP BY DATE(created_at)
ORDER BY date
"""
SCHEMA_VERSION = "SELECT version FROM ops_schema_version ORDER BY applied_at DESC, version DESC LIMIT 1"


class ComplianceError(Exception):
    """The report could not be produced; str() is a one-line reason. Nothing was left at the target."""


@dataclass
class ComplianceReport:
    directory: Path
    month: date
    executive: dict[str, Any]
    kill_switch_events: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    daily_pnl: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return sorted(p.name for p in self.directory.iterdir()) if self.directory.is_dir() else []


def parse_month(text: str) -> date:
    try:
        d = datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ComplianceError(f"month {text!r} is not YYYY-MM") from exc
    return d.replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    nxt = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)
    return start, nxt


def daily_pnl_svg(month: date, rows: list[dict[str, Any]]) -> str:
    """A bar chart of net P&L per day of the month (ZAR); no scripts, no external references."""
    start, end = month_bounds(month)
    days = [(start + timedelta(days=i)).date() for i in range((end - start).days)]
    net = {r["date"]: Decimal(r["net_pnl"]) for r in rows}
    values = [net.get(d, Decimal(0)) for d in days]
    top, bottom = max([*values, Decimal(0)]), min([*values, Decimal(0)])
    span = (top - bottom) or Decimal(1)
    w, h, pad, label_h = 760, 300, 50, 30
    plot_h = h - 2 * label_h
    bar_w = (w - 2 * pad) / len(days)

    def y(v: Decimal) -> float:
        return label_h + float((top - v) / span) * plot_h

    zero = y(Decimal(0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="Daily net P&amp;L, {month:%Y-%m}">',
        f"<title>Daily net P&amp;L (ZAR), {month:%Y-%m}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
        f'<text x="{pad}" y="18" font-family="sans-serif" font-size="14">Daily net P&amp;L (ZAR), {month:%Y-%m}</text>',
        f'<line x1="{pad}" y1="{zero:.1f}" x2="{w - pad}" y2="{zero:.1f}" stroke="#444" stroke-width="1"/>',
        f'<text x="4" y="{label_h + 10}" font-family="sans-serif" font-size="10">{html.escape(str(top))}</text>',
        f'<text x="4" y="{label_h + plot_h}" font-family="sans-serif" font-size="10">{html.escape(str(bottom))}</text>',
    ]
    for i, (d, v) in enumerate(zip(days, values, strict=True)):
        x = pad + i * bar_w
        y1, y2 = sorted((y(v), zero))
        colour = "#2e7d32" if v >= 0 else "#c62828"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y1:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{max(y2 - y1, 0.5):.1f}" '
            f'fill="{colour}"><title>{d}: {html.escape(str(v))} ZAR</title></rect>'
        )
        if d.day == 1 or d.day % 5 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{h - 8}" font-family="sans-serif" font-size="10" '
                f'text-anchor="middle">{d.day}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _md_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_no rows_\n"
    cols = list(rows[0].keys())
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join("" if r[c] is None else str(r[c]).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p><em>no rows</em></p>"
    cols = list(rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sections(r: ComplianceReport) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        ("1. Executive Summary", [r.executive]),
        ("2. Kill Switch Events", r.kill_switch_events),
        ("3. Policy Override Analysis", r.overrides),
        ("4. Daily P&L Summary", r.daily_pnl),
    ]


def render_markdown(r: ComplianceReport, meta: dict[str, str]) -> str:
    lines = [f"# Compliance report {r.month:%Y-%m}", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += ["", "**Status:** " + ("; ".join(r.problems) if r.problems else "complete"), ""]
    for title, rows in _sections(r):
        lines += [f"## {title}", "", _md_table(rows)]
        if title.startswith("4."):
            lines += ["![Daily net P&L](daily_pnl.svg)", ""]
    return "\n".join(lines)


def render_html(r: ComplianceReport, meta: dict[str, str], svg: str) -> str:
    items = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in meta.items())
    status = html.escape("; ".join(r.problems) if r.problems else "complete")
    body = [f"<h1>Compliance report {r.month:%Y-%m}</h1>", f"<ul>{items}</ul>"]
    body.append(f"<p><strong>Status:</strong> {status}</p>")
    for title, rows in _sections(r):
        body += [f"<h2>{html.escape(title)}</h2>", _html_table(rows)]
        if title.startswith("4."):
            body.append(f"<figure>{svg}<figcaption>Daily net P&amp;L (ZAR)</figcaption></figure>")
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Compliance report {r.month:%Y-%m}</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _query(db: Db, month: date) -> ComplianceReport:
    start, end = month_bounds(month)
    p = {"start": start, "end": end}
    executive = db.one(EXECUTIVE, p) or {}
    report = ComplianceReport(
        Path(),
        month,
        executive,
        db.rows(KILL_SWITCH, p),
        db.rows(OVERRIDES, p),
        db.rows(DAILY_PNL, p),
    )
    missing = sum(int(r["trades_without_pnl"]) for r in report.daily_pnl)
    if missing:
        days = [str(r["date"]) for r in report.daily_pnl if r["trades_without_pnl"]]
        report.problems.append(
            f"{missing} FILLED trade(s) without a recorded P&L (pnl_zar NULL) on {', '.join(days[:5])}"
        )
    return report


def generate(
    db_params: DbParams, redactor: Redactor, month: date, out_dir: Path, operator: str, *, db: Db | None = None
) -> ComplianceReport:
    """Write the month's report into ``out_dir`` (which must not exist). Raises ComplianceError or DbError."""
    out_dir = out_dir.absolute()
    if out_dir.exists():
        raise ComplianceError(f"{out_dir} already exists; a report never overwrites")
    if not out_dir.parent.is_dir():
        raise ComplianceError(f"parent directory {out_dir.parent} does not exist")
    if db is None:
        with connect(db_params, redactor, read_only=True) as conn:
            return generate(db_params, redactor, month, out_dir, operator, db=conn)
    report = _query(db, month)
    version = db.one(SCHEMA_VERSION) if db.first("SELECT to_regclass('ops_schema_version') AS t")["t"] else None
    meta = {
        "Generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Period": f"{month_bounds(month)[0]:%Y-%m-%d} to {month_bounds(month)[1]:%Y-%m-%d} (half-open, UTC)",
        "Generated by": operator,
        "Database": db_params.describe(),
        "Schema version": str(version["version"]) if version else "unknown",
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        svg = daily_pnl_svg(month, report.daily_pnl)
        files = {
            "executive_summary.csv": rows_csv([report.executive]),
            "kill_switch_events.csv": rows_csv(report.kill_switch_events),
            "policy_overrides.csv": rows_csv(report.overrides),
            "daily_pnl.csv": rows_csv(report.daily_pnl),
            "daily_pnl.svg": svg,
            "report.md": render_markdown(report, meta),
            "report.html": render_html(report, meta, svg),
        }
        for name, text in files.items():
            (tmp / name).write_text(redactor.text(text), encoding="utf-8", newline="\n")
        os.rename(tmp, out_dir)
    except OSError as exc:
        raise ComplianceError(f"cannot write the report: {exc.__class__.__name__}: {exc.strerror or exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    report.directory = out_dir
    return report
