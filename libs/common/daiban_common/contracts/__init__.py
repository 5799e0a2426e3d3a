"""Wire contracts: every event payload, defined once and shared by all services."""

from daiban_common.contracts import case, catalogue, routing

__all__ = ["case", "catalogue", "routing"]
