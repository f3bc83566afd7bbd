"""Rows returned by an audit query, rendered as a CSV attachment (a report section's table)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ops_checks.core.redaction import Redactor
from ops_checks.core.result import Evidence


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def rows_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    cols = list(columns or (rows[0].keys() if rows else []))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([cell(r.get(c)) for c in cols])
    return out.getvalue()


def csv_evidence(
    name: str,
    rows: Sequence[dict[str, Any]],
    redactor: Redactor,
    *,
    total: int | None = None,
    columns: Sequence[str] | None = None,
) -> Evidence:
    text = rows_csv(rows, columns)
    if total is not None and total > len(rows):
        text += f"# {total - len(rows)} more row(s) not attached; {total} in all\n"
    return Evidence(name, redactor.text(text), "text/csv")
