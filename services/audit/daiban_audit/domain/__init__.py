"""The audit service's rules as plain functions: no I/O, unit-tested without a database."""
