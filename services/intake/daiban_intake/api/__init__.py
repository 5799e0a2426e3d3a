"""HTTP routes: translate requests to commands and queries, results to responses. No rules here."""

from __future__ import annotations

from daiban_intake.api import ingress, public, staff, systems

routers = (staff.router, public.router, systems.router, ingress.router)
