"""Wire contracts: every event payload, defined once and shared by all services."""

from daiban_common.contracts import audit, case, catalogue, directory, routing

__all__ = ["audit", "case", "catalogue", "directory", "routing"]
