"""Thin: plain `pytest` at the repository root runs the runbook scenarios (steps/test_runbook.py binds features/)
on the sandbox, through the suite's pytest plugin. The plugin is also the package's `pytest11` entry point; naming
it here keeps `pytest` working with plugin autoloading off, and pytest loads it once either way."""

pytest_plugins = ["ops_checks.pytest_plugin.plugin"]
