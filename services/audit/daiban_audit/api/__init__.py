"""Routes only: HTTP <-> handlers and queries, one module per resource."""

from __future__ import annotations

from daiban_audit.api import log, stats

routers = (log.router, stats.router)
