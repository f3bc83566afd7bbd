"""The suite's own tables: a versioned, idempotent install into schema ``opscheck`` (``opscheck init``)."""
