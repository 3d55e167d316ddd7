"""Validation of new triples: shapes, integrity checks and the fast incremental path."""
