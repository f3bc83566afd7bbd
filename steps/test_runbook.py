"""Binds the feature files to pytest: one test per runbook checklist item.

Every feature file is bound, unless ``OPSCHECK_FEATURES`` (set by ``opscheck preflight --features``) names glob
patterns: then only the matching files are parsed, so a run scoped to one runbook section does not pay for
collecting all of them. Marker selection (``-m``) still applies on top.
"""

import os
from pathlib import Path

from pytest_bdd import scenarios

FEATURES = Path(__file__).resolve().parents[1] / "features"
_patterns = [p.strip() for p in os.environ.get("OPSCHECK_FEATURES", "").split(",") if p.strip()]

if _patterns:
    _files = sorted({f for pattern in _patterns for f in FEATURES.glob(pattern)})
    if not _files:
        raise RuntimeError(f"OPSCHECK_FEATURES={','.join(_patterns)} matches no feature file")
    scenarios(*(str(f) for f in _files))
else:
    scenarios("../features")
