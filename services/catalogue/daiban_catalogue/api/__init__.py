"""The catalogue's HTTP API: routes only, HTTP <-> commands and queries, one module per resource."""

from __future__ import annotations

from daiban_catalogue.api import items, reports

routers = (items.router, reports.router)
