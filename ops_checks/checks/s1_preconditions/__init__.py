"""Live Trading Runbook §1 Preconditions Checklist."""
