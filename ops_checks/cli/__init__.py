"""``opscheck``: the operator's command line (``python -m ops_checks.cli``)."""


def main() -> None:
    """``ops_checks.cli:main``, the console script's target before the package was layered: an install made then
    keeps working until it is reinstalled (the entry point is now ``ops_checks.cli.app:main``)."""
    from ops_checks.cli.app import main as app_main

    app_main()
