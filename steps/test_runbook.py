"""Binds every feature file to pytest: one test per runbook checklist item."""

from pytest_bdd import scenarios

scenarios("../features")
