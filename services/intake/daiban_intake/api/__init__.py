"""HTTP routes: translate requests to commands and queries, results to responses. No rules here."""

from __future__ import annotations

from daiban_intake.api import public, staff

routers = (staff.router, public.router)
