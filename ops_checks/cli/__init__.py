"""``opscheck``: the operator's command line (``python -m ops_checks.cli``)."""
