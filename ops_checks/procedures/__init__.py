"""Procedures that act: kill switch, transition, incident, audit export, backup, env edits, sign-off."""
