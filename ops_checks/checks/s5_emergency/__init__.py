"""Live Trading Runbook §5 Emergency Shutdown: readiness and the §5.7 checklist."""
