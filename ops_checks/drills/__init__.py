"""Drills: procedures run end to end on a disposable sandbox, judged item by item."""
