"""Core: plain building blocks with no knowledge of the bot (results, secrets, redaction, HTTP, env files)."""
