"""Wire contracts: every event payload, defined once and shared by all services."""

from daiban_common.contracts import catalogue

__all__ = ["catalogue"]
