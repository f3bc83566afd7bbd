"""Live Trading Runbook §6 on live: the latest incident record."""
