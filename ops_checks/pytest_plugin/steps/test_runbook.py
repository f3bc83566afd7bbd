"""Binds the feature files to pytest: one test per runbook checklist item.

Every feature file is bound, unless ``OPSCHECK_FEATURES`` (set by ``opscheck preflight --features``) names glob
patterns: then only the matching files are parsed, so a run scoped to one runbook section does not pay for
collecting all of them. Marker selection (``-m``) still applies on top. The files are the installed package's
(``ops_checks.pytest_plugin.features_dir()``), given as absolute paths, so no ini setting or working directory
matters.
"""

import os

from pytest_bdd import scenarios

from ops_checks.pytest_plugin import features_dir

FEATURES = features_dir()
_patterns = [p.strip() for p in os.environ.get("OPSCHECK_FEATURES", "").split(",") if p.strip()]

if _patterns:
    _files = sorted({f for pattern in _patterns for f in FEATURES.glob(pattern)})
    if not _files:
        raise RuntimeError(f"OPSCHECK_FEATURES={','.join(_patterns)} matches no feature file")
    scenarios(*(str(f) for f in _files))
else:
    scenarios(str(FEATURES))
