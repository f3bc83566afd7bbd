"""``python -m ops_checks.cli``: the same command line as ``opscheck``."""

from ops_checks.cli.app import main

if __name__ == "__main__":
    main()
