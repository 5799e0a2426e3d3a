"""Who may open a printable page: a bearer token, or a signed link from intake's own answer.

A browser tab sends no Authorization header, so `receipt_url` and `notice_url` carry a signature
(`domain.links`). The token wins when both come: a clerk's tab that has one needs no link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Query

from daiban_common import clock
from daiban_common.auth import OptionalPrincipal, Principal
from daiban_common.errors import FieldError, Forbidden, Unauthorized
from daiban_contracts.text import StoredText
from daiban_intake.context import ContextDep
from daiban_intake.domain.links import LinkSigner

LINK_REFUSED_TYPE: Final = "/problems/print-link-refused"


class LinkRefused(Forbidden):
    type = LINK_REFUSED_TYPE
    title = "Print link refused"


@dataclass(frozen=True)
class PrintAccess:
    """What a request to a printable page brings: perhaps a token, perhaps a signed link."""

    principal: Principal | None
    expires: int | None
    sig: str | None
    links: LinkSigner

    def reader(self, path: str) -> Principal | None:
        """The caller whose subtree scopes the read, or None for a valid link to `path` (any org)."""
        if self.principal is not None:
            return self.principal
        if self.expires is None and self.sig is None:
            raise Unauthorized("缺少身份令牌，请先登录")
        if self.expires is None or self.sig is None:
            missing = "expires" if self.expires is None else "sig"
            raise LinkRefused(
                "打印链接不完整，请从受理系统重新打开", errors=[FieldError(missing, "缺少此参数")]
            )
        now = clock.now().timestamp()
        if now >= self.expires:
            raise LinkRefused(
                "打印链接已过期（有效期15分钟），请从受理系统重新打开",
                errors=[FieldError("expires", "链接已过期")],
            )
        if not self.links.valid(path, expires=self.expires, sig=self.sig, now=now):
            raise LinkRefused("打印链接无效，请从受理系统重新打开", errors=[FieldError("sig", "签名不符")])
        return None


def _access(
    principal: OptionalPrincipal,
    context: ContextDep,
    expires: Annotated[
        int | None, Query(ge=0, le=2**53 - 1, description="签名链接的失效时间（Unix 秒）；用身份令牌时不需要")
    ] = None,
    sig: Annotated[
        StoredText | None, Query(max_length=128, description="签名链接的签名；用身份令牌时不需要")
    ] = None,
) -> PrintAccess:
    return PrintAccess(principal, expires, sig, context.links)


PrintAccessDep = Annotated[PrintAccess, Depends(_access)]
