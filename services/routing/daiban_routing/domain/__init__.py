"""Routing's rules as plain functions: no I/O, unit-tested without servers."""
