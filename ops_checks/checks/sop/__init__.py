"""Incident Response SOP checks (sop.1 … sop.8 and the prevention checklist), one module per concern."""
