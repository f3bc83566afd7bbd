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
from ops_checks.pytest_plugin.selection import feature_files, patterns

FEATURES = features_dir()
_patterns = patterns(os.environ.get("OPSCHECK_FEATURES"))

if _patterns:  # the files `opscheck preflight --features` checked before it started (SelectionError: none)
    scenarios(*(str(f) for f in feature_files(",".join(_patterns), FEATURES)))
else:
    scenarios(str(FEATURES))
