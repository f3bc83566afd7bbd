"""Live Trading Runbook §4: the TradePermissionPolicy order."""
