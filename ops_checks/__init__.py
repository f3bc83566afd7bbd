"""ops_checks: the executable form of the live-trading runbooks (plain library, no test framework imports)."""

__version__ = "0.1.0"
