"""Live Trading Runbook §7 Audit: queries, integrity and retention."""
