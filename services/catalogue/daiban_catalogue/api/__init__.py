"""The catalogue's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter

from daiban_catalogue.api.items import item_routes
from daiban_catalogue.api.reports import report_routes
from daiban_catalogue.handlers.items import Catalogue
from daiban_common.runtime import ServiceRuntime


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    catalogue = Catalogue.for_node(runtime.node_org)
    return [item_routes(catalogue), report_routes(catalogue)]
