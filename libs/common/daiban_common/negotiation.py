"""Content negotiation shared by the routes that also render a page (receipts, the handbook)."""

from __future__ import annotations

from starlette.requests import Request


def wants_html(request: Request) -> bool:
    """Browsers and print clients list text/html; API clients send application/json (first) or */*."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "text/html" in accept and "application/json" not in first
