"""Rendering: the self-contained HTML report, its sign-off page, and third-party result files."""
