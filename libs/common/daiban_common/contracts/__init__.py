"""Wire contracts: every event payload, defined once and shared by all services."""

from daiban_common.contracts import audit, case, catalogue, routing

__all__ = ["audit", "case", "catalogue", "routing"]
