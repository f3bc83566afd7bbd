"""Live Trading Runbook §3: the pre-transition gate and the audit trail of the last transition."""
