"""Issue 15 §8: result files speak the report's language — readable step parameters, no dead runbook links."""

from __future__ import annotations

import json
from pathlib import Path

from ops_checks.catalogue import BY_ID, runbook_text
from ops_checks.report import result_files


def test_allure_step_parameters_keep_only_literal_arguments(tmp_path: Path) -> None:
    result = {"name": "3.3.8 LIVE mode verified", "labels": [{"name": "story", "value": "3.3.8 LIVE mode verified"}],
              "steps": [{"name": "When checklist row 3.3.8 is read", "parameters": [
                  {"name": "item", "value": "'3.3.8'"},
                  {"name": "request", "value": "<FixtureRequest for <Function test_live_mode_verified>>"},
                  {"name": "target", "value": "Target('sandbox', 'app@h:1/db', bot='http://127.0.0.1:1')"},
                  {"name": "result", "value": "CheckResult(ok=True, observed='passed', expected='x', reason='')"},
                  {"name": "limit", "value": "1000"}]}]}
    (tmp_path / "a-result.json").write_text(json.dumps(result))
    result_files.rewrite_allure(tmp_path, {})
    params = json.loads((tmp_path / "a-result.json").read_text())["steps"][0]["parameters"]
    assert params == [{"name": "item", "value": "3.3.8"}, {"name": "limit", "value": "1000"}]


def test_runbook_quotes_carry_no_in_document_links(runbooks_dir: Path) -> None:
    text = runbook_text.quote(BY_ID["1.2.4"], runbooks_dir)
    assert "](#" not in text and "Section 8 of the runbook" in text
