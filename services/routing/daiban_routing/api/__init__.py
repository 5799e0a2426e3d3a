"""Routes only: HTTP <-> handlers and queries, one module per resource."""

from __future__ import annotations

from daiban_routing.api import calendar, directory, public, supervision, work

routers = (directory.router, work.router, supervision.router, public.router, calendar.router)
