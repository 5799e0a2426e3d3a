"""HTTP plumbing shared by the catalogue's routes: errors, who may write, JSON bodies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from daiban_catalogue.domain import (
    ConcurrentChange,
    InvalidDraft,
    InvalidQuery,
    NotInCatalogue,
    VersionConflict,
)
from daiban_common.auth import Principal, Role, require_roles
from daiban_common.deps import RuntimeDep
from daiban_common.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier


class CatalogueRoute(APIRoute):
    """Turns the domain's errors into problem+json: 422 for a broken rule or a read's parameters
    that do not fit, 404 for what is not in the catalogue, 409 for a conflict."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def translate(request: Request) -> Response:
            try:
                return await handler(request)
            except InvalidDraft as exc:
                errors = [FieldError(v.field, v.message) for v in exc.violations]
                raise InvalidInput("事项内容不符合规则，请按错误提示逐项修改", errors=errors) from None
            except VersionConflict as exc:
                errors = [FieldError(v.field, v.message) for v in exc.violations]
                detail = "；".join(v.message for v in exc.violations)
                raise Conflict(detail, errors=errors, type="/problems/catalogue-conflict") from None
            except InvalidQuery as exc:
                raise InvalidInput(errors=[FieldError(v.field, v.message) for v in exc.violations]) from None
            except NotInCatalogue as exc:
                raise NotFound(exc.message) from None
            except ConcurrentChange:
                raise Conflict("该事项刚被其他请求修改，请刷新后重试") from None

        return translate


async def county_admin(
    principal: Annotated[Principal, Depends(require_roles(Role.admin))], runtime: RuntimeDep
) -> Principal:
    """The catalogue is kept at the county node, by the county's administrators."""
    node = runtime.node_org
    if node.tier is not Tier.county:
        raise Forbidden("本节点的事项目录是只读副本，请到县级节点维护")
    if principal.org != node.value:
        raise Forbidden("事项目录只能由县级管理员维护")
    return principal


CountyAdmin = Annotated[Principal, Depends(county_admin)]


def parse_org(raw: str, field: str) -> OrgCode:
    """An org code from a query parameter; 422 naming the parameter if it is not one."""
    try:
        return OrgCode.parse(raw)
    except InvalidOrgCode as exc:
        raise InvalidInput.field(field, str(exc)) from None


def json_body(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()
