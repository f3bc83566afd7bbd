"""Read-only checks, one folder per runbook section: ``Target`` → ``CheckResult``; they never write to the target."""
