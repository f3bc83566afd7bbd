"""The SQL the runbooks print, run against a real schema (DESIGN.md §6).

Statements come from the runbooks' code: ``sql`` fenced blocks, ``psql … -c "…"`` in any fenced block (the
quick-reference card's box drawing is stripped), and SQL in inline code spans of checklist tables. Shell values
are filled in: ``$(date +FMT)``, ``$START_DATE`` / ``$END_DATE`` / ``$MONTH`` (from the block's own assignment,
else a default) and ``[PLACEHOLDER]`` markers.

Sandbox: each statement runs as the application role inside a transaction that is always rolled back.
Live: ``EXPLAIN`` only, in a read-only session (EXPLAIN parses, resolves every table and column, and checks the
role's privileges, without running anything); ``COPY (query) TO STDOUT`` is explained as its query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from ops_checks.access.config import DbParams, Target
from ops_checks.access.db import DbError, connect, one_line
from ops_checks.core.redaction import Redactor
from ops_checks.core.result import CheckResult, Evidence, failed, passed

RUNBOOKS = ("live-trading-runbook.md", "incident-response-sop.md")
SQL_START = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(SELECT|UPDATE|INSERT|DELETE|WITH|COPY)\b", re.I)
_FENCE = re.compile(r"^\s*```(\w*)\s*$")
_HEADING = re.compile(r"^(#{2,4})\s+(.*)$")
_PSQL = re.compile(r'\bpsql\b[^"`]*?\s-c\s+"((?:[^"\\]|\\.)*)"', re.S)
_INLINE = re.compile(r"`([^`]+)`")
_DATE = re.compile(r"\$\(date(?:\s+-u)?\s+\+([^)]+)\)")
_ASSIGN = re.compile(r'^\s*([A-Z_]+)="?([^"\n$]*)"?\s*$', re.M)
_DEFAULT_ASSIGN = re.compile(r"^\s*([A-Z_]+)=\$\{\d+:-([^}]*)\}\s*$", re.M)
_PLACEHOLDER = re.compile(r"\[([A-Z][A-Z0-9_]+)\]")
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_COPY_OUT = re.compile(r"^\s*COPY\s*\((.*)\)\s*TO\s+STDOUT\b.*$", re.S | re.I)
BOX = "║╔╗╚╝╠╣═"


@dataclass(frozen=True)
class Statement:
    runbook: str
    line: int
    section: str
    sql: str

    @property
    def where(self) -> str:
        return f"{self.runbook}:{self.line} ({self.section})"

    @property
    def first_line(self) -> str:
        return " ".join(self.sql.split())[:90]


def date_format(fmt: str, now: datetime) -> str:
    """``date +FMT`` for the codes the runbooks use (%s, %N, %3N included)."""
    ns = int(now.timestamp() * 1_000_000_000)
    fmt = fmt.replace("%3N", f"{(ns // 1_000_000) % 1000:03d}").replace("%N", f"{ns % 1_000_000_000:09d}")
    return now.strftime(fmt.replace("%s", str(ns // 1_000_000_000)))


def fill(sql: str, block: str, now: datetime) -> str:
    """Shell values → concrete ones; block assignments win over the defaults."""
    month = now.strftime("%Y-%m")
    values = {"START_DATE": f"{month}-01", "END_DATE": now.strftime("%Y-%m-%d"), "MONTH": month}
    filled_block = _DATE.sub(lambda m: date_format(m.group(1), now), block)
    values |= {k: v for k, v in _DEFAULT_ASSIGN.findall(filled_block)}
    values |= {k: v for k, v in _ASSIGN.findall(filled_block) if v}
    sql = _DATE.sub(lambda m: date_format(m.group(1), now), sql)
    sql = _PLACEHOLDER.sub(lambda m: f"opscheck_{m.group(1).lower()}", sql)
    return _SHELL_VAR.sub(lambda m: values.get(m.group(1), m.group(0)), sql)


def split_sql(text: str) -> list[str]:
    """Split on ``;`` outside quotes and comments; empty pieces and comment-only pieces dropped."""
    out, buf, quote, i = [], [], "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            buf.append(text[i:end])
            i = end
            continue
        elif ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if SQL_START.match(s.strip() + "\n")]


def extract(path: Path, now: datetime | None = None) -> list[Statement]:
    """Every SQL statement of one runbook, filled in, in document order."""
    now = now or datetime.now(UTC)
    name, lines = path.name, path.read_text(encoding="utf-8").splitlines()
    found: list[Statement] = []
    section, i = "", 0
    while i < len(lines):
        line = lines[i]
        if m := _HEADING.match(line):
            section = m.group(2).strip()
        fence = _FENCE.match(line)
        if fence:
            start, lang = i, fence.group(1).lower()
            i += 1
            body: list[str] = []
            while i < len(lines) and not _FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            block = "\n".join(body)
            found += _from_block(name, start + 2, section, lang, block, now)
        elif line.lstrip().startswith("|"):
            for span in _INLINE.findall(line):
                for sql in _psql_commands(span) or ([span] if SQL_START.match(span + "\n") else []):
                    found += [Statement(name, i + 1, section, fill(s, "", now)) for s in split_sql(sql)]
        i += 1
    return found


def _psql_commands(text: str) -> list[str]:
    return [m.group(1).replace('\\"', '"') for m in _PSQL.finditer(text)]


def _from_block(name: str, first: int, section: str, lang: str, block: str, now: datetime) -> list[Statement]:
    clean = "".join(" " if ch in BOX else ch for ch in block)
    if lang == "sql":
        return [Statement(name, first, section, fill(s, block, now)) for s in split_sql(clean)]
    out = []
    for m in _PSQL.finditer(clean):
        line = first + clean.count("\n", 0, m.start())
        sql = m.group(1).replace('\\"', '"')
        out += [Statement(name, line, section, fill(s, clean, now)) for s in split_sql(sql)]
    return out


def extract_all(runbook_dir: Path, now: datetime | None = None) -> list[Statement]:
    return [s for name in RUNBOOKS if (runbook_dir / name).exists() for s in extract(runbook_dir / name, now)]


def _run(conn: psycopg.Connection[Any], stmt: Statement, explain_only: bool) -> str:
    """Runs one statement; returns what it did (row count) or raises psycopg.Error."""
    unfilled = _SHELL_VAR.findall(stmt.sql)
    if unfilled:
        raise ValueError(f"shell variable(s) left unfilled: {', '.join(sorted(set(unfilled)))}")
    copy = _COPY_OUT.match(stmt.sql)
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        if explain_only:
            cur.execute("EXPLAIN " + (copy.group(1) if copy else stmt.sql))
            return "explained"
        if copy:
            with cur.copy(stmt.sql) as out:
                size = sum(len(bytes(chunk)) for chunk in out)
            return f"COPY streamed {size} bytes"
        cur.execute(stmt.sql)
        return f"{cur.rowcount} row(s), rolled back"


def check_statements(
    params: DbParams, redactor: Redactor, statements: list[Statement], *, explain_only: bool
) -> dict[Statement, str]:
    """Each statement → "" when it works, else a one-line problem. Nothing is ever committed."""
    explain = explain_only
    problems: dict[Statement, str] = {}
    with connect(params, redactor, read_only=explain, extra_options="-c lock_timeout=1000") as db:
        conn = db.conn
        for stmt in statements:
            try:
                _run(conn, stmt, explain)
                problems[stmt] = ""
            except (psycopg.Error, ValueError) as exc:
                problems[stmt] = redactor.text(one_line(exc))
    return problems


def check(t: Target, statements: list[Statement], label: str) -> CheckResult:
    """A CheckResult over some runbook statements (sandbox: rolled back; live: EXPLAIN only)."""
    how = "EXPLAIN only (read-only session)" if t.name == "live" else "run and rolled back"
    try:
        problems = check_statements(t.db, t.redactor, statements, explain_only=t.name == "live")
    except DbError as exc:  # the database was not reached: the statements are not checked, not found invalid
        return failed("not checked", f"{label} valid", f"not checked: {exc}")
    listing = "\n\n".join(f"-- {s.where}: {'OK' if not p else 'ERROR ' + p}\n{s.sql}" for s, p in problems.items())
    ev = Evidence(f"runbook SQL ({how})", listing or "no statements")
    bad = [(s, p) for s, p in problems.items() if p]
    if not statements:
        return failed("no statements", f"{label} valid", f"no {label} statement found in the runbook", ev)
    if bad:
        s, p = bad[0]
        return failed(f"{len(bad)} of {len(statements)} fail", "all valid", f"{label} at {s.where} fails: {p}", ev)
    return passed(f"{len(statements)} valid ({how})", "all valid", f"{len(statements)} {label} statement(s) {how}", ev)


# --- what a statement names: tables (with the privilege the statement needs) and columns ------------------------
_TABLE_REFS = (
    (re.compile(r"\bINSERT\s+INTO\s+([a-z_][a-z0-9_.]*)", re.I), "INSERT"),
    (re.compile(r"\bUPDATE\s+([a-z_][a-z0-9_.]*)\s+SET\b", re.I), "UPDATE"),
    (re.compile(r"\bDELETE\s+FROM\s+([a-z_][a-z0-9_.]*)", re.I), "DELETE"),
    (re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_.]*)(?!\s*\()", re.I), "SELECT"),
)
_ALIAS = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+([a-z_][a-z0-9_]*)(?:\s+(?:AS\s+)?([a-z_][a-z0-9_]*))?", re.I)
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b", re.I)
_INSERT_COLS = re.compile(r"\bINSERT\s+INTO\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)", re.I)
_UPDATE_SET = re.compile(r"\bUPDATE\s+([a-z_][a-z0-9_]*)\s+SET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.I | re.S)
_CTE = re.compile(r"(?:\bWITH|,)\s*([a-z_][a-z0-9_]*)\s+AS\s*\(", re.I)
_KEYWORDS = {
    "select",
    "where",
    "on",
    "set",
    "group",
    "order",
    "limit",
    "left",
    "right",
    "inner",
    "join",
    "values",
    "as",
    "and",
    "or",
    "lateral",
    "having",
    "union",
    "returning",
    "stdout",
    "with",
    "using",
    "cross",
}


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _depth0_split(text: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch == "'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return parts


def table_refs(stmt: Statement) -> list[tuple[str, str]]:
    """(table, privilege) pairs the statement needs, in order of first mention; CTE names left out."""
    text = re.sub(r"'(?:[^']|'')*'", "''", _strip_comments(stmt.sql))
    ctes = {m.group(1).lower() for m in _CTE.finditer(text)}
    found: dict[tuple[str, str], int] = {}
    for pattern, privilege in _TABLE_REFS:
        for m in pattern.finditer(text):
            name = m.group(1).lower()
            if (
                name in ctes
                or name in _KEYWORDS
                or (privilege == "SELECT" and re.match(r"\s*DELETE\b", text[max(0, m.start() - 7) : m.start()], re.I))
            ):
                continue
            found.setdefault((name, privilege), m.start())
    return sorted(found, key=found.__getitem__)


def column_refs(stmt: Statement) -> list[tuple[str, str]]:
    """(table, column) pairs the statement names explicitly: INSERT column lists, UPDATE SET targets and
    alias-qualified columns (``t.symbol`` with ``FROM trading_orders t``)."""
    text = re.sub(r"'(?:[^']|'')*'", "''", _strip_comments(stmt.sql))
    out: list[tuple[str, str]] = []
    for m in _INSERT_COLS.finditer(text):
        out += [(m.group(1).lower(), c.strip().lower()) for c in m.group(2).split(",") if c.strip()]
    for m in _UPDATE_SET.finditer(text):
        for part in _depth0_split(m.group(2)):
            if "=" in part:
                out.append((m.group(1).lower(), part.split("=", 1)[0].strip().lower()))
    aliases = {}
    for m in _ALIAS.finditer(text):
        table, alias = m.group(1).lower(), (m.group(2) or "").lower()
        aliases[table] = table
        if alias and alias not in _KEYWORDS:
            aliases[alias] = table
    for m in _QUALIFIED.finditer(text):
        qualifier, column = m.group(1).lower(), m.group(2).lower()
        if qualifier in aliases and qualifier not in ("public", "opscheck"):
            out.append((aliases[qualifier], column))
    return list(dict.fromkeys(out))  # first occurrence of each, in order


def check_references(
    params: DbParams, redactor: Redactor, tables: list[tuple[str, str]], columns: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Each (table, privilege) and (table, column) → "" when the live schema has it (and the role may), else a
    one-line problem. Read-only session; catalogue queries only."""
    problems: dict[tuple[str, str], str] = {}
    with connect(params, redactor, read_only=True) as db:
        for table, privilege in tables:
            row = db.one("SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
            if not row or not row["present"]:
                problems[(table, privilege)] = f"table {table} does not exist"
                continue
            may = db.one("SELECT has_table_privilege(current_user, %s, %s) AS may", (table, privilege))
            problems[(table, privilege)] = (
                "" if may and may["may"] else (f"{params.user} has no {privilege} on {table}")
            )
        for table, column in columns:
            if (table, "SELECT") in problems and problems[(table, "SELECT")].startswith("table"):
                continue
            row = db.one("SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
            if not row or not row["present"]:
                problems[(table, column)] = f"table {table} does not exist"
                continue
            col = db.one(
                "SELECT 1 AS one FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                "AND attnum > 0 AND NOT attisdropped",
                (table, column),
            )
            problems[(table, column)] = "" if col else f"column {table}.{column} does not exist"
    return problems


_INSERT_VALUES = re.compile(r"\bINSERT\s+INTO\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*$", re.I | re.S)
_IN_LIST_CHECK = re.compile(r"^CHECK \(+\(?([a-z_][a-z0-9_]*)\)?(?:::\w+)? = ANY \(", re.I)
_CHECK_VALUE = re.compile(r"'((?:[^']|'')*)'::")


def literal_violations(params: DbParams, redactor: Redactor, statements: list[Statement]) -> dict[Statement, str]:
    """What EXPLAIN cannot see: an INSERT's literal values outside the column's CHECK (col IN (...)) list and
    text where the column is uuid. Statement → one line ("" when none). Catalogue queries only."""
    found: dict[Statement, str] = {}
    with connect(params, redactor, read_only=True) as db:
        for stmt in statements:
            m = _INSERT_VALUES.search(_strip_comments(stmt.sql))
            if not m:
                continue
            table = m.group(1).lower()
            columns = [c.strip().lower() for c in m.group(2).split(",")]
            values = [v.strip() for v in _depth0_split(m.group(3))]
            checks = db.rows(
                "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint "
                "WHERE conrelid = to_regclass(%s) AND contype = 'c'",
                (table,),
            )
            types = {
                r["attname"]: r["t"]
                for r in db.rows(
                    "SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute "
                    "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
                    (table,),
                )
            }
            problems = []
            for column, value in zip(columns, values, strict=False):
                if not (value.startswith("'") and value.endswith("'")):
                    continue
                literal = value[1:-1].replace("''", "'")
                if types.get(column) == "uuid" and not re.fullmatch(r"[0-9a-fA-F-]{32,36}", literal):
                    problems.append(f"{column} is uuid, the runbook writes {literal!r}")
                for c in checks:
                    cm = _IN_LIST_CHECK.match(c["def"])
                    if cm and cm.group(1).lower() == column:
                        allowed = [v.replace("''", "'") for v in _CHECK_VALUE.findall(c["def"])]
                        if allowed and literal not in allowed:
                            problems.append(f"{column} {literal!r} is not one of {', '.join(allowed)}")
            if problems:
                found[stmt] = "; ".join(problems)
    return found
