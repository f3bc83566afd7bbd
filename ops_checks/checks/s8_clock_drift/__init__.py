"""Live Trading Runbook §8 Exchange Clock Drift Verification."""
