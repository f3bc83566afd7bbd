"""``opscheck evidence verify RUN_DIR [--env-file .env]``: is a run's evidence what was sealed, and signed?

From any directory (every path is taken relative to ``RUN_DIR``'s parent, the folder the manifest's paths are
relative to), it checks:

1. ``results.sha256``: every line is ``<sha256>  <run-id>/<path>``, ``<run-id>`` being ``RUN_DIR``'s name; every
   file of the run is listed (none missing, none added) and hashes to its line (``verdict.json`` and
   ``html/index.html`` in their canonical form, ``verdict.seal``);
2. the run's hash, the SHA-256 of ``results.sha256``, is ``results_sha256`` in ``verdict.json``;
3. the seal lines of ``verdict.json`` and the page are exactly what verdict.json's seal values render (nothing
   else was put there), so the page shows verdict.json's hash and sign-off;
4. a signed run's head hash is its ledger row's hash, recomputed from verdict.json (run id, target, verdict,
   counts, the run's hash, operator, witness) and the seal's time and previous hash;
5. with ``--env-file``: the ledger holds the row the seal names for this run id (same id and head hash), unaltered
   (its hash recomputed, its MAC with ``OPSCHECK_SIGNOFF_KEY``), recording this run's hash, verdict and counts; a
   run whose seal says "not signed" has no row. The whole chain is ``opscheck signoff verify``'s.

Without ``--env-file`` it proves the files are the ones sealed, unless whoever edited them redid every digest and
the seal; the ledger row (``--env-file``) is what nobody can redo. Exit 0 intact, 1 altered (one line per problem),
2 cannot run (no such run, an unreadable file, bad settings, an unreachable database).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.cli import errors
from ops_checks.procedures import signoff
from ops_checks.report import signoff_page
from ops_checks.verdict import seal
from ops_checks.verdict.seal import MANIFEST, PAGE, VERDICT_FILE

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A run's evidence: its seal and sign-off.")

_LINE = re.compile(r"([0-9a-f]{64})  (.+)")


class CannotVerify(Exception):
    """The check cannot run (exit 2); one line."""


@dataclass
class Verification:
    run_dir: Path
    files: int = 0
    digest: str = ""  # the SHA-256 of results.sha256
    claim: dict[str, Any] = field(default_factory=dict)  # verdict.json
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _manifest(run_dir: Path, data: bytes, v: Verification) -> dict[str, str]:
    """results.sha256 as {path relative to the run: digest}; a line of another shape or run is a problem."""
    listed: dict[str, str] = {}
    for n, raw in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        if not raw and n > 1:
            continue
        m = _LINE.fullmatch(raw)
        run, _, rel = m.group(2).partition("/") if m else ("", "", "")
        parts = rel.split("/")
        if not m or not rel or any(p in ("", ".", "..") for p in parts):
            v.problems.append(f"{MANIFEST} line {n} is not '<sha256>  {run_dir.name}/<path>'")
            continue
        if run != run_dir.name:
            v.problems.append(f"{MANIFEST} line {n} names run {run!r}, not this folder's {run_dir.name!r}")
            continue
        if rel in listed:
            v.problems.append(f"{MANIFEST} lists {rel} twice")
        listed[rel] = m.group(1)
    return listed


def verify_files(run_dir: Path) -> Verification:
    """Checks 1–4 of the module's list. Raises CannotVerify."""
    v = Verification(run_dir)
    if not run_dir.is_dir():
        raise CannotVerify(f"{run_dir}: no such run folder")
    manifest_path, claim_path = run_dir / MANIFEST, run_dir / VERDICT_FILE
    if not manifest_path.is_file() and not claim_path.is_file():
        aside = " (its verdict was set aside: its evidence was never written whole, and it was never signed)"
        raise CannotVerify(
            f"{run_dir} is not a sealed run: no {MANIFEST} and no {VERDICT_FILE}"
            + (aside if (run_dir / "verdict.incomplete.json").exists() else "")
        )
    try:
        _refuse_unsealed(run_dir, claim_path)
        files = seal.run_files(run_dir)
        data = manifest_path.read_bytes() if manifest_path.is_file() else None
        if data is None:  # one line, not one per file it would have listed
            v.problems.append(f"{MANIFEST} is missing: none of the run's {len(files)} files can be checked")
            v.files = len(files)
            return v
        else:
            v.digest = hashlib.sha256(data).hexdigest()
            listed = _manifest(run_dir, data, v)
        v.files = len(files)
        for rel in sorted(set(listed) - set(files)):
            v.problems.append(f"{rel}: missing (listed in {MANIFEST})")
        for rel in files:
            if rel not in listed:
                v.problems.append(f"{rel}: not in {MANIFEST} (added after the run was sealed)")
                continue
            try:
                digest = seal.file_digest(run_dir, rel)
            except seal.SealError as exc:
                v.problems.append(f"{exc}: edited")
                continue
            if digest != listed[rel]:
                v.problems.append(f"{rel}: altered (its SHA-256 is not the one in {MANIFEST})")
        v.checked.append(f"{len(files)} files against {MANIFEST}")
        if not claim_path.is_file():
            return v  # reported above: listed but missing, or the manifest itself is missing
        claim_text = claim_path.read_text(encoding="utf-8")
        page_text = (run_dir / PAGE).read_text(encoding="utf-8") if (run_dir / PAGE).is_file() else None
    except OSError as exc:
        raise CannotVerify(f"cannot read {run_dir}: {exc.strerror or exc}") from None
    _check_claim(v, claim_text, page_text)
    return v


def _refuse_unsealed(run_dir: Path, claim_path: Path) -> None:
    """A run ``opscheck preflight`` never sealed has nothing to verify: interrupted, a plain pytest run, a run of a
    version before the seal. (Its verdict.json names no sign-off, signed or not.) Raises CannotVerify."""
    try:
        claim = json.loads(claim_path.read_text(encoding="utf-8")) if claim_path.is_file() else None
    except ValueError:
        return  # not JSON: reported as altered
    if not isinstance(claim, dict) or isinstance(claim.get("signoff"), dict):
        return
    if claim.get("interrupted"):
        why = f"it was interrupted by {claim.get('signal') or 'a signal'} before it was sealed"
    else:
        why = "its verdict.json has no seal (a plain pytest run, or a run of a version before the seal)"
    raise CannotVerify(f"{run_dir.name} is not a sealed run: {why}")


def _check_claim(v: Verification, claim_text: str, page_text: str | None) -> None:
    try:
        claim = json.loads(claim_text)
    except ValueError:
        v.problems.append(f"{VERDICT_FILE} is not JSON")
        return
    if not isinstance(claim, dict):
        v.problems.append(f"{VERDICT_FILE} is not a verdict")
        return
    v.claim = claim
    if v.digest and claim.get("results_sha256") != v.digest:
        v.problems.append(
            f"{VERDICT_FILE} names results SHA-256 {claim.get('results_sha256')}, but {MANIFEST} hashes to {v.digest}"
        )
    expected = seal.json_seal_line(claim.get("results_sha256"), claim.get("signoff"))
    try:
        lines = claim_text.split("\n")
        if lines[seal.seal_line_index(lines, seal.JSON_SEAL_PREFIX, VERDICT_FILE)] != expected:
            v.problems.append(f"{VERDICT_FILE}: its seal line holds more than its hash and sign-off (edited)")
    except seal.SealError:
        pass  # reported with the file's digest
    if page_text is not None:
        lines = page_text.split("\n")
        try:
            if lines[seal.seal_line_index(lines, seal.PAGE_SEAL_PREFIX, PAGE)] != signoff_page.seal_line(claim):
                v.problems.append(f"{PAGE}: its seal does not show verdict.json's hash and sign-off (edited)")
        except seal.SealError:
            pass
    v.checked.append(f"the hash and sign-off shown by {VERDICT_FILE}" + (f" and {PAGE}" if page_text else ""))
    sign = claim.get("signoff")
    if not isinstance(sign, dict) or not isinstance(sign.get("signed"), bool):
        v.problems.append(f"{VERDICT_FILE}: its seal names no sign-off (signed or not, and why)")
        return
    if sign["signed"]:
        try:
            recomputed = signoff.row_hash(_row(v.run_dir.name, claim), str(sign.get("prev_hash")))
        except (KeyError, TypeError):
            recomputed = ""
        if recomputed != sign.get("row_hash"):
            v.problems.append(
                f"{VERDICT_FILE}: the head hash of its sign-off is not the hash of its ledger row (verdict, counts, "
                "hash, operator, witness or time edited)"
            )
        else:
            v.checked.append("the signed row's hash against verdict.json")


def _row(run_id: str, claim: dict[str, Any]) -> dict[str, Any]:
    """The ledger row ``signoff.record`` wrote for this claim."""
    return {
        "run_id": run_id,
        "target": claim["target"],
        "verdict": claim["verdict"],
        "counts": claim["counts"],
        "results_sha256": claim.get("results_sha256") or "",
        "operator": str(claim["operator"]).strip(),
        "witness": str(claim["witness"]).strip(),
        "signed_at": claim["signoff"]["signed_at"],
    }


def verify_ledger(v: Verification, env_file: Path | None) -> None:
    """Check 5. Raises CannotVerify (bad settings, an unreachable database or ledger)."""
    try:
        env = load_env(env_file)
        target = live_target(env, allow_mutations=False)
        key = signoff.key_from(env)
        target.redactor.register(key)
        rows = signoff.rows_of_run(target.db, target.redactor, v.run_dir.name)
    except (ConfigError, signoff.SignoffError) as exc:
        raise CannotVerify(str(exc)) from None
    claimed = v.claim.get("signoff")
    sign: dict[str, Any] = claimed if isinstance(claimed, dict) else {}
    run = v.run_dir.name
    if not sign.get("signed"):
        if rows:
            v.problems.append(
                f"the ledger signs run {run} (row {rows[0]['id']}), but its seal says not signed: {sign.get('why')}"
            )
        else:
            v.checked.append("no ledger row for this unsigned run")
        return
    if not rows:
        v.problems.append(f"the ledger has no row for run {run}; its seal names row {sign.get('ledger_row')}")
        return
    if len(rows) > 1:
        v.problems.append(f"the ledger has {len(rows)} rows for run {run}: {', '.join(str(r['id']) for r in rows)}")
    row = rows[-1]
    where = f"ledger row {row['id']}"
    if row["id"] != sign.get("ledger_row") or row["row_hash"] != sign.get("row_hash"):
        v.problems.append(
            f"{where} (head {row['row_hash'][:12]}…) is not the row the seal names (row {sign.get('ledger_row')}, "
            f"head {str(sign.get('row_hash'))[:12]}…)"
        )
    if signoff.row_hash(row, row["prev_hash"]) != row["row_hash"]:
        v.problems.append(f"{where} was altered: its content no longer matches its hash")
    if row["results_sha256"] != v.digest:
        v.problems.append(f"{where} records results SHA-256 {row['results_sha256']}, the run hashes to {v.digest}")
    for name in ("verdict", "counts", "target"):
        if row[name] != v.claim.get(name):
            v.problems.append(f"{where} records {name} {row[name]!r}, verdict.json {v.claim.get(name)!r}")
    if bool(row["mac"]) != bool(sign.get("mac_key_set")):
        v.problems.append(
            f"{where} {'carries' if row['mac'] else 'carries no'} MAC, but the seal says the key was "
            f"{'set' if sign.get('mac_key_set') else 'not set'}"
        )
    elif key is not None and row["mac"] and not hmac.compare_digest(row["mac"], signoff.mac(key, row["row_hash"])):
        v.problems.append(f"{where} has no valid MAC: it was rewritten without the operators' key ({signoff.KEY_ENV})")
    v.checked.append(f"{where} of the ledger" + (" and its MAC" if key is not None and row["mac"] else ""))


@app.command("verify")
def verify_cmd(
    run_dir: Annotated[Path, typer.Argument(help="the run's folder, e.g. reports/20250101T000000Z-ab12cd")],
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="dotenv file of the live target: also compare the run's ledger row"),
    ] = None,
) -> None:
    """Recompute every file's digest and the run's hash; compare it with verdict.json's and the page's (and, with
    --env-file, the ledger row's). Exit 0 intact, 1 altered, 2 cannot run."""
    run_dir = run_dir.expanduser().absolute()
    try:
        v = verify_files(run_dir)
        if env_file is not None:
            verify_ledger(v, env_file)
    except CannotVerify as exc:
        raise errors.cannot_run(str(exc)) from None
    if not v.ok:
        typer.echo(f"EVIDENCE ALTERED: run {run_dir.name}, {len(v.problems)} problem(s):")
        for problem in v.problems:
            typer.echo(f"  {problem}")
        raise typer.Exit(1)
    sign = v.claim.get("signoff") or {}
    state = (
        f"signed: ledger row {sign.get('ledger_row')}, head {sign.get('row_hash')}"
        if sign.get("signed")
        else f"not signed: {sign.get('why')}"
    )
    typer.echo(f"evidence intact: run {run_dir.name}, {v.files} files, results SHA-256 {v.digest} ({state})")
    typer.echo(f"checked: {'; '.join(v.checked)}")
    if sign.get("signed") and env_file is None:
        typer.echo("note: the ledger row was not compared: pass --env-file (the whole chain: opscheck signoff verify)")
