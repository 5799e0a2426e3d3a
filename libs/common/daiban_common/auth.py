"""Who is calling: JWT bearer tokens, roles, and the org subtree a caller may see.

A token carries `sub`, `role`, `org` (the 12-digit unit the person works for), `name`, `iat`,
`exp` and `iss`. Development and small deployments sign with a shared HS256 secret; a county that
runs its own identity provider sets `DAIBAN_JWKS_URL` and the services verify RS256/ES256 tokens
against its published keys instead. The two are never mixed: a JWKS-configured service refuses
HMAC tokens, so a public key can never be abused as an HMAC secret.

Scoping is by org code prefix and applies to every role alike, `system` included: a caller sees
its own unit and everything below it, and anything else answers 404 as if it did not exist.

A node serves the org units of its own county only. A valid token whose `org` is above the county,
in another county, or a code the county's directory does not have is refused with 403
(`/problems/org-not-served`) before any route runs; the node's own org is always served (service
tokens carry it). The directory is asked through the service's `KnownOrgs`, which answers from
memory (`daiban_common.orgunits`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Protocol

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, SQLColumnExpression
from starlette.concurrency import run_in_threadpool

from daiban_common.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier

__all__ = [
    "CurrentPrincipal",
    "KnownOrgs",
    "OptionalPrincipal",
    "OrgGate",
    "OrgNotServed",
    "Principal",
    "Role",
    "TokenVerifier",
    "bearer_token",
    "can_see",
    "ensure_within",
    "get_principal",
    "install_auth",
    "issue_token",
    "optional_principal",
    "require_roles",
    "subtree_clause",
]


class Role(StrEnum):
    agent = "agent"
    clerk = "clerk"
    approver = "approver"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"
    system = "system"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS: Final[Mapping[Role, str]] = {
    Role.agent: "代办员",
    Role.clerk: "窗口工作人员",
    Role.approver: "审批人员",
    Role.supervisor: "监察人员",
    Role.auditor: "审计人员",
    Role.admin: "管理员",
    Role.system: "系统",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a person (or a node, for `system`) bound to one org unit."""

    sub: str
    role: Role
    org: str
    name: str

    def __post_init__(self) -> None:
        # Constructed from verified claims and in tests alike; an invalid one must not exist.
        object.__setattr__(self, "role", Role(self.role))
        OrgCode(self.org)

    @property
    def org_code(self) -> OrgCode:
        return OrgCode(self.org)


# ---------------------------------------------------------------------------------------------
# Tokens

_HMAC_MIN_SECRET_BYTES: Final = 32
_ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_DEFAULT_JWKS_ALGORITHMS: Final = ("RS256", "ES256")
# Phones in villages and the identity provider's clock need not agree to the second.
_DEFAULT_LEEWAY_SECONDS: Final = 30.0

_INVALID_TOKEN_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

# A clerk's app sends the same token with every request until it expires; verifying it again
# (HMAC, base64, JSON: ~300 Python calls) was a fifth of what authenticating a request cost.
_VERIFIED_CACHE_SIZE: Final = 1024
# A key withdrawn from the identity provider's set is refused by the next fetch of the set, which
# PyJWKClient does at most every 300 s (its lifespan below); a cached token is checked again no
# later than that, so the cache keeps a withdrawn key alive no longer than the client already did.
_JWKS_RECHECK_SECONDS: Final = 300.0


def _hmac_secret(settings: Settings) -> tuple[str, str]:
    algorithm = settings.jwt_algorithm
    if not algorithm.startswith("HS"):
        raise ValueError(f"DAIBAN_JWT_ALGORITHM={algorithm} needs DAIBAN_JWKS_URL to find the public keys")
    secret = settings.resolved_jwt_secret()
    if len(secret.encode()) < _HMAC_MIN_SECRET_BYTES:
        raise ValueError(f"DAIBAN_JWT_SECRET must be at least {_HMAC_MIN_SECRET_BYTES} bytes long")
    return secret, algorithm


def issue_token(
    settings: Settings,
    *,
    sub: str,
    role: Role | str,
    org: str,
    name: str,
    ttl_seconds: int | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a token with the shared secret (development, tests, nodes without an identity provider)."""
    if settings.jwks_url:
        raise ValueError("tokens come from the identity provider when DAIBAN_JWKS_URL is set")
    if not sub.strip():
        raise ValueError("sub must not be empty")
    role = Role(role)
    org_code = OrgCode.parse(org)
    ttl = settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds
    if ttl <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = int((now or datetime.now(UTC)).timestamp())
    secret, algorithm = _hmac_secret(settings)
    claims = {
        "sub": sub,
        "role": role.value,
        "org": org_code.value,
        "name": name,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "iss": settings.jwt_issuer,
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


class TokenVerifier:
    """Turns a bearer token into a `Principal`; build one per app (`install_auth`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        jwks_client: jwt.PyJWKClient | None = None,
        leeway_seconds: float = _DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self.issuer = settings.jwt_issuer
        self.leeway_seconds = leeway_seconds
        self._secret: str | None = None
        self._jwks: jwt.PyJWKClient | None = None
        # token -> (principal, its `exp`, when to verify it in full again). Per verifier, i.e. per
        # secret or key set: an app with a new secret builds a new verifier and trusts nothing old.
        # Only tokens that verified are kept; any other string (a tampered one) misses and is
        # verified in full.
        self._verified: dict[str, tuple[Principal, float, float]] = {}
        self._recheck_after = float("inf")
        if settings.jwks_url or jwks_client is not None:
            self._jwks = jwks_client or jwt.PyJWKClient(
                settings.jwks_url, cache_jwk_set=True, lifespan=_JWKS_RECHECK_SECONDS, timeout=5
            )
            self._recheck_after = _JWKS_RECHECK_SECONDS
            configured = settings.jwt_algorithm
            # HS256 is the settings default, i.e. "not chosen": accept both common asymmetric kinds.
            self.algorithms: tuple[str, ...] = (
                (configured,) if configured in _ASYMMETRIC_ALGORITHMS else _DEFAULT_JWKS_ALGORITHMS
            )
        else:
            self._secret, algorithm = _hmac_secret(settings)
            self.algorithms = (algorithm,)

    @property
    def uses_jwks(self) -> bool:
        return self._jwks is not None

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `Unauthorized` otherwise. May block on a JWKS fetch."""
        cached = self._cached(token)
        if cached is not None:
            return cached
        try:
            key: jwt.PyJWK | str
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token)
            else:
                assert self._secret is not None
                key = self._secret
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("身份令牌已过期，请重新登录", headers=_INVALID_TOKEN_CHALLENGE) from None
        except jwt.PyJWKClientConnectionError:
            # Our identity provider being down is not the caller's fault: no 401 that logs them out.
            raise ServiceUnavailable("暂时无法验证身份令牌，请稍后重试") from None
        except jwt.PyJWTError:
            raise _invalid_token() from None
        principal = _principal_from_claims(claims)
        self._remember(token, principal, claims["exp"])
        return principal

    def _cached(self, token: str) -> Principal | None:
        """The principal of a token verified before and not expired since; None to verify it."""
        entry = self._verified.get(token)
        if entry is None:
            return None
        principal, exp, recheck_at = entry
        now = time.time()
        # The same rule as PyJWT's (`exp <= now - leeway` is expired). `nbf` and `iat` need no
        # second look: they were in the past when the token verified and time only moves on.
        if exp <= now - self.leeway_seconds:
            self._verified.pop(token, None)
            raise Unauthorized("身份令牌已过期，请重新登录", headers=_INVALID_TOKEN_CHALLENGE)
        if now >= recheck_at:
            self._verified.pop(token, None)
            return None
        return principal

    def _remember(self, token: str, principal: Principal, exp: Any) -> None:
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            # The oldest entry goes (dicts keep insertion order): cheap, and a token still in use
            # is simply verified and kept again.
            # JWKS verifications run in threads, so another one may change the dict meanwhile.
            with contextlib.suppress(RuntimeError):
                self._verified.pop(next(iter(self._verified), ""), None)
        self._verified[token] = (principal, float(exp), time.time() + self._recheck_after)

    async def verify_async(self, token: str) -> Principal:
        """`verify` without blocking the event loop on a JWKS fetch."""
        if token in self._verified:
            return self.verify(token)
        if self._jwks is not None:
            return await run_in_threadpool(self.verify, token)
        return self.verify(token)


def _invalid_token() -> Unauthorized:
    return Unauthorized("身份令牌无效或已过期，请重新登录", headers=_INVALID_TOKEN_CHALLENGE)


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    sub, role, org, name = (claims.get(key) for key in ("sub", "role", "org", "name"))
    if not (isinstance(sub, str) and sub and isinstance(name, str) and isinstance(org, str)):
        raise _invalid_token()
    if not isinstance(role, str):
        raise _invalid_token()
    try:
        return Principal(sub=sub, role=Role(role), org=org, name=name)
    except ValueError:  # an unknown role, or an InvalidOrgCode
        raise _invalid_token() from None


# ---------------------------------------------------------------------------------------------
# Which org units a node serves


class KnownOrgs(Protocol):
    """The service's answer to "is `org` an org unit of this county's directory?" (cheap: no I/O
    on the hot path)."""

    async def is_known(self, org: str) -> bool: ...


class OrgNotServed(Forbidden):
    type = "/problems/org-not-served"
    title = "Org unit not served by this node"


@dataclass(frozen=True, slots=True)
class OrgGate:
    """Admits the principals of the org units a node serves: its own, and its county's known ones."""

    node: OrgCode
    known: KnownOrgs | None = None

    @property
    def scope(self) -> OrgCode:
        # A node above the county (none is deployed today) serves its own subtree.
        return self.node if self.node.tier is Tier.above_county else self.node.county

    async def admits(self, org: OrgCode) -> bool:
        if org == self.node:
            return True
        # Static checks first: above the county or outside it needs no lookup.
        if org.tier is Tier.above_county or not org.is_within(self.scope):
            return False
        return self.known is None or await self.known.is_known(org.value)

    async def check(self, principal: Principal) -> None:
        if not await self.admits(principal.org_code):
            raise OrgNotServed(
                f"身份令牌所属单位{principal.org}不是本节点所辖（{self.scope.value}）区划目录中的单位，无权访问"
            )


# ---------------------------------------------------------------------------------------------
# FastAPI wiring

# Only for OpenAPI (the "Authorize" button); the header is parsed below so that a malformed one
# is a 401 rather than silently anonymous.
_bearer_scheme = HTTPBearer(
    bearerFormat="JWT",
    scheme_name="bearerAuth",
    description="JWT issued by the node or the identity provider",
    auto_error=False,
)


def install_auth(
    app: FastAPI,
    settings: Settings,
    *,
    jwks_client: jwt.PyJWKClient | None = None,
    known_orgs: KnownOrgs | None = None,
) -> TokenVerifier:
    """Build the app's one verifier from `settings` (fails fast on a bad key configuration).

    Without `known_orgs` only the static checks apply (the county's subtree).
    """
    verifier = TokenVerifier(settings, jwks_client=jwks_client)
    app.state.token_verifier = verifier
    app.state.org_gate = OrgGate(OrgCode.parse(settings.org), known_orgs)
    return verifier


def _verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("install_auth(app, settings) was not called for this app")
    return verifier


def bearer_token(header: str) -> str:
    """The token of an `Authorization: Bearer <token>` header; 401 for any other shape."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("身份令牌格式错误，请求头应为“Authorization: Bearer 令牌”")
    return token


async def optional_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal | None:
    """The caller if a token was sent, None if not; a bad token is still a 401."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    principal = await _verifier(request).verify_async(bearer_token(header))
    gate = getattr(request.app.state, "org_gate", None)
    if isinstance(gate, OrgGate):
        await gate.check(principal)
    return principal


async def get_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The caller; 401 without a valid bearer token."""
    if principal is None:
        raise Unauthorized("缺少身份令牌，请先登录")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency giving the caller if their role is one of `roles`, else 403.

    Use as `Annotated[Principal, Depends(require_roles(Role.clerk, Role.approver))]`.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(Role(role) for role in roles)
    needed = "、".join(role.label for role in roles)

    async def principal_with_role(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"此操作仅限{needed}办理，您的角色是{principal.role.label}")
        return principal

    return principal_with_role


# ---------------------------------------------------------------------------------------------
# Org subtree scoping


def _org_code(org: str | OrgCode) -> OrgCode:
    return org if isinstance(org, OrgCode) else OrgCode.parse(org)


def subtree_clause(column: SQLColumnExpression[str], org: str | OrgCode) -> ColumnElement[bool]:
    """`column LIKE '<prefix>%'`: rows of `org` and every unit below it.

    Takes a Core column, an ORM attribute or `sqlmodel.col(Model.org)`. The prefix is digits
    only, so it needs no LIKE escaping. For PostgreSQL to use a btree index for it the index
    needs `text_pattern_ops` (or the column the C collation).
    """
    prefix = _org_code(org).subtree_prefix
    if not prefix.isdigit():
        raise InvalidOrgCode("区划代码必须是数字")
    return column.like(prefix + "%")


def can_see(principal: Principal, org: str | OrgCode) -> bool:
    """Whether `org` is the principal's unit or below it; an invalid code is seen by nobody."""
    try:
        target = _org_code(org)
    except InvalidOrgCode:
        return False
    return target.is_within(principal.org_code)


def ensure_within(principal: Principal, org: str | OrgCode) -> None:
    """404 (not 403) outside the principal's subtree, so that existence is not revealed."""
    if not can_see(principal, org):
        raise NotFound()
