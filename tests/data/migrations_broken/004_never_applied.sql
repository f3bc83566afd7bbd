-- Never applied: the run stops at 003.
CREATE TABLE applied_after_error (id integer);
