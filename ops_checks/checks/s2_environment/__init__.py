"""Live Trading Runbook §2 Environment Variable Verification."""
