"""Bearer tokens, roles and org subtree scoping."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from sqlalchemy import String, column, select, table
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from daiban_common import auth
from daiban_common.auth import (
    CurrentPrincipal,
    OptionalPrincipal,
    Principal,
    Role,
    TokenVerifier,
    can_see,
    ensure_within,
    install_auth,
    issue_token,
    require_roles,
    subtree_clause,
)
from daiban_common.error_handlers import install_error_handlers
from daiban_common.errors import NotFound, ServiceUnavailable, Unauthorized
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode

SECRET = "unit-test-secret-that-is-long-enough-0123456789"
COUNTY = "370285000000"
TOWNSHIP = "370285101000"
OTHER_TOWNSHIP = "370285102000"
VILLAGE = "370285101201"
OTHER_COUNTY = "370283000000"
JWKS_URL = "https://idp.example.test/.well-known/jwks.json"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(jwt_secret=SECRET, jwt_issuer="daiban-test", var_dir=tmp_path, jwks_url="")


def token_for(settings: Settings, role: Role | str = Role.clerk, org: str = TOWNSHIP, **kwargs: Any) -> str:
    return issue_token(settings, sub="staff-7", role=role, org=org, name="李四", **kwargs)


def forged(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    now = int(datetime.now(UTC).timestamp())
    base = {"sub": "staff-7", "role": "clerk", "org": TOWNSHIP, "name": "李四", "iat": now}
    base |= {"exp": now + 600, "iss": "daiban-test"}
    return jwt.encode(
        {k: v for k, v in (base | claims).items() if v is not None}, secret, algorithm=algorithm
    )


# --- roles and principals ------------------------------------------------------------------------


def test_role_labels_are_chinese() -> None:
    assert [role.label for role in Role] == [
        "代办员",
        "窗口工作人员",
        "审批人员",
        "监察人员",
        "审计人员",
        "管理员",
        "系统",
    ]
    assert Role("approver") is Role.approver


def test_principal_validates_and_exposes_org_code() -> None:
    principal = Principal(sub="u1", role="clerk", org=VILLAGE, name="王五")  # type: ignore[arg-type]
    assert principal.role is Role.clerk
    assert principal.org_code == OrgCode.parse(VILLAGE)
    with pytest.raises(InvalidOrgCode):
        Principal(sub="u1", role=Role.clerk, org="12345", name="王五")
    with pytest.raises(ValueError):
        Principal(sub="u1", role="boss", org=VILLAGE, name="王五")  # type: ignore[arg-type]


# --- issuing and verifying -----------------------------------------------------------------------


def test_issue_verify_roundtrip(settings: Settings) -> None:
    token = token_for(settings, role=Role.approver, org=COUNTY)
    principal = TokenVerifier(settings).verify(token)
    assert principal == Principal(sub="staff-7", role=Role.approver, org=COUNTY, name="李四")

    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="daiban-test")
    assert set(claims) == {"sub", "role", "org", "name", "iat", "exp", "iss"}
    assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds


def test_issue_token_refuses_bad_input(settings: Settings) -> None:
    with pytest.raises(InvalidOrgCode):
        token_for(settings, org="370285")
    with pytest.raises(ValueError):
        token_for(settings, role="boss")
    with pytest.raises(ValueError):
        token_for(settings, ttl_seconds=0)
    with pytest.raises(ValueError):
        issue_token(settings, sub=" ", role=Role.clerk, org=TOWNSHIP, name="李四")


def test_short_secret_is_refused(tmp_path: Path) -> None:
    weak = Settings(jwt_secret="short", var_dir=tmp_path, jwks_url="")
    with pytest.raises(ValueError, match="32 bytes"):
        TokenVerifier(weak)
    with pytest.raises(ValueError, match="32 bytes"):
        token_for(weak)


def test_expired_token_is_401(settings: Settings) -> None:
    token = token_for(settings, ttl_seconds=60, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(Unauthorized) as caught:
        TokenVerifier(settings).verify(token)
    assert caught.value.status == 401
    assert "过期" in caught.value.detail
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_wrong_secret_is_401(settings: Settings, tmp_path: Path) -> None:
    other = Settings(
        jwt_secret="another-secret-that-is-long-enough-9876543210", var_dir=tmp_path, jwks_url=""
    )
    with pytest.raises(Unauthorized) as caught:
        TokenVerifier(other).verify(token_for(settings))
    assert caught.value.detail == "身份令牌无效或已过期，请重新登录"


def test_a_cached_token_is_refused_once_it_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = TokenVerifier(settings)
    token = token_for(settings, ttl_seconds=60)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # served from the cache
    # The verifier's clock moves past exp plus the leeway; PyJWT's own is not consulted for a
    # cached token, so only the cache's own check can refuse it.
    later = time.time() + 60 + verifier.leeway_seconds + 1
    monkeypatch.setattr("daiban_common.auth.time.time", lambda: later)
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.detail == "身份令牌已过期，请重新登录"
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_tampered_token_is_never_served_from_the_cache(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    token = token_for(settings, role=Role.clerk)
    assert verifier.verify(token).role is Role.clerk
    header, payload, signature = token.split(".")
    admin = token_for(settings, role=Role.admin).split(".")[1]
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BA")
    for tampered in (f"{header}.{admin}.{signature}", f"{header}.{payload}.{flipped}", token + "x"):
        with pytest.raises(Unauthorized):
            verifier.verify(tampered)
    assert verifier.verify(token).role is Role.clerk


def test_a_new_secret_trusts_no_token_the_old_verifier_cached(settings: Settings, tmp_path: Path) -> None:
    token = token_for(settings)
    TokenVerifier(settings).verify(token)
    rotated = Settings(
        jwt_secret="another-secret-that-is-long-enough-9876543210", var_dir=tmp_path, jwks_url=""
    )
    with pytest.raises(Unauthorized):
        TokenVerifier(rotated).verify(token)


def test_the_cache_of_verified_tokens_is_bounded(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    first = token_for(settings, ttl_seconds=3600)
    verifier.verify(first)
    for n in range(auth._VERIFIED_CACHE_SIZE):
        verifier.verify(token_for(settings, ttl_seconds=3600 + n + 1))
    assert len(verifier._verified) == auth._VERIFIED_CACHE_SIZE
    assert first not in verifier._verified


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "superuser"},
        {"role": None},
        {"role": 3},
        {"org": "370285101"},
        {"org": "990285101000"},
        {"org": None},
        {"sub": None},
        {"sub": ""},
        {"name": None},
        {"iss": None},
        {"iss": "someone-else"},
        {"exp": None},
    ],
    ids=lambda claims: ",".join(f"{k}={v}" for k, v in claims.items()),
)
def test_bad_claims_are_401(settings: Settings, claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(forged(claims))


def test_unsigned_and_garbage_tokens_are_401(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    unsigned = jwt.encode({"sub": "x", "role": "admin", "org": COUNTY, "name": "x"}, "", algorithm="none")
    for token in (unsigned, "not-a-jwt", "a.b.c", ""):
        with pytest.raises(Unauthorized):
            verifier.verify(token)


def test_forged_claims_with_right_secret_are_accepted(settings: Settings) -> None:
    # The control for the parametrised failures above: the forging helper itself is sound.
    assert TokenVerifier(settings).verify(forged({})).org == TOWNSHIP


# --- JWKS (RS256 / ES256 from an identity provider) ----------------------------------------------


class FakeJWKClient(jwt.PyJWKClient):
    """Serves a JWKS from memory instead of the network."""

    def __init__(self, jwks: dict[str, Any] | None = None, *, down: bool = False) -> None:
        super().__init__(JWKS_URL, cooldown_duration=0)
        self.jwks = jwks or {"keys": []}
        self.down = down
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        if self.down:
            raise jwt.PyJWKClientConnectionError("connection refused")
        return self.jwks


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(ec_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    return {
        "keys": [
            ec_jwk | {"kid": "ec-1", "alg": "ES256", "use": "sig"},
            rsa_jwk | {"kid": "rsa-1", "alg": "RS256", "use": "sig"},
        ]
    }


@pytest.fixture
def jwks_settings(tmp_path: Path) -> Settings:
    return Settings(jwks_url=JWKS_URL, jwt_issuer="county-idp", var_dir=tmp_path, jwt_secret="")


def idp_token(key: Any, algorithm: str, kid: str, **claims: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    payload = {"sub": "u-9", "role": "approver", "org": COUNTY, "name": "赵六", "iat": now}
    payload |= {"exp": now + 600, "iss": "county-idp"} | claims
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def test_es256_and_rs256_tokens_verify_through_jwks(
    jwks_settings: Settings,
    jwks: dict[str, Any],
    ec_key: ec.EllipticCurvePrivateKey,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    client = FakeJWKClient(jwks)
    verifier = TokenVerifier(jwks_settings, jwks_client=client)
    assert verifier.uses_jwks and verifier.algorithms == ("RS256", "ES256")

    principal = verifier.verify(idp_token(ec_key, "ES256", "ec-1"))
    assert principal == Principal(sub="u-9", role=Role.approver, org=COUNTY, name="赵六")
    assert verifier.verify(idp_token(rsa_key, "RS256", "rsa-1")).sub == "u-9"
    # The key set is cached, not fetched per token.
    assert client.fetches == 1


def test_jwks_refuses_hmac_and_mismatched_keys(
    jwks_settings: Settings, jwks: dict[str, Any], ec_key: ec.EllipticCurvePrivateKey
) -> None:
    verifier = TokenVerifier(jwks_settings, jwks_client=FakeJWKClient(jwks))
    hmac_token = jwt.encode(
        {"sub": "u", "role": "admin", "org": COUNTY, "name": "x", "exp": 2**31, "iss": "county-idp"},
        SECRET,
        algorithm="HS256",
        headers={"kid": "ec-1"},
    )
    for token in (
        hmac_token,
        idp_token(ec_key, "ES256", "rsa-1"),  # signed with the EC key, claims the RSA key id
        idp_token(ec_key, "ES256", "unknown-kid"),
        idp_token(ec_key, "ES256", "ec-1", iss="another-idp"),
        idp_token(ec_key, "ES256", "ec-1", role="root"),
    ):
        with pytest.raises(Unauthorized):
            verifier.verify(token)


def test_jwks_outage_is_503_not_401(jwks_settings: Settings, ec_key: ec.EllipticCurvePrivateKey) -> None:
    verifier = TokenVerifier(jwks_settings, jwks_client=FakeJWKClient(down=True))
    with pytest.raises(ServiceUnavailable) as caught:
        verifier.verify(idp_token(ec_key, "ES256", "ec-1"))
    assert caught.value.status == 503


def test_issue_token_refuses_when_an_identity_provider_is_configured(jwks_settings: Settings) -> None:
    with pytest.raises(ValueError, match="identity provider"):
        token_for(jwks_settings)


# --- FastAPI dependencies ------------------------------------------------------------------------


def build_app(settings: Settings, jwks_client: jwt.PyJWKClient | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, settings, jwks_client=jwks_client)

    @app.get("/v1/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.sub, "role": principal.role, "org": principal.org}

    @app.get("/v1/public/progress")
    async def progress(principal: OptionalPrincipal) -> dict[str, str | None]:
        return {"sub": principal.sub if principal else None}

    @app.post("/v1/tasks/{task_id}/decide")
    async def decide(
        task_id: str,
        principal: Annotated[Principal, Depends(require_roles(Role.approver, Role.supervisor))],
    ) -> dict[str, str]:
        return {"decided_by": principal.sub}

    return app


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_gives_principal(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/v1/me", headers=bearer(token_for(settings)))
    assert response.status_code == 200
    assert response.json() == {"sub": "staff-7", "role": "clerk", "org": TOWNSHIP}


async def test_missing_header_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["detail"] == "缺少身份令牌，请先登录"
    assert body["instance"] == "/v1/me"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer  ", "Bearer a b", ""])
async def test_malformed_header_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert "格式错误" in response.json()["detail"]


async def test_scheme_is_case_insensitive(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/v1/me", headers={"Authorization": f"bearer {token_for(settings)}"})
    assert response.status_code == 200


async def test_invalid_token_is_401(client: httpx.AsyncClient, settings: Settings) -> None:
    expired = token_for(settings, ttl_seconds=60, now=datetime.now(UTC) - timedelta(days=1))
    response = await client.get("/v1/me", headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "过期" in response.json()["detail"]


async def test_optional_principal(client: httpx.AsyncClient, settings: Settings) -> None:
    anonymous = await client.get("/v1/public/progress")
    assert anonymous.status_code == 200 and anonymous.json() == {"sub": None}

    known = await client.get("/v1/public/progress", headers=bearer(token_for(settings)))
    assert known.json() == {"sub": "staff-7"}

    # A bad token is not silently treated as anonymous.
    bad = await client.get("/v1/public/progress", headers=bearer("garbage"))
    assert bad.status_code == 401


async def test_wrong_role_is_403(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.post("/v1/tasks/T1/decide", headers=bearer(token_for(settings, role=Role.clerk)))
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "/problems/forbidden"
    assert body["detail"] == "此操作仅限审批人员、监察人员办理，您的角色是窗口工作人员"

    allowed = await client.post(
        "/v1/tasks/T1/decide", headers=bearer(token_for(settings, role=Role.approver))
    )
    assert allowed.status_code == 200 and allowed.json() == {"decided_by": "staff-7"}


async def test_role_check_without_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/tasks/T1/decide")
    assert response.status_code == 401


async def test_jwks_verification_through_the_app(
    jwks_settings: Settings, jwks: dict[str, Any], ec_key: ec.EllipticCurvePrivateKey
) -> None:
    app = build_app(jwks_settings, jwks_client=FakeJWKClient(jwks))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/v1/me", headers=bearer(idp_token(ec_key, "ES256", "ec-1")))
    assert response.status_code == 200
    assert response.json()["role"] == "approver"


def test_require_roles_needs_a_role() -> None:
    with pytest.raises(ValueError):
        require_roles()


def test_openapi_declares_bearer_scheme(settings: Settings) -> None:
    schema = build_app(settings).openapi()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


async def test_missing_install_auth_is_a_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/v1/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.sub

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/v1/me", headers=bearer("x"))
    assert response.status_code == 500


# --- org subtree scoping -------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[str] = mapped_column(String(12))


# The asyncpg dialect, as in production: its `$n` parameters leave `%` undoubled.
ASYNCPG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def compiled(clause: Any) -> str:
    return str(clause.compile(dialect=ASYNCPG, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize(
    ("org", "pattern"),
    [(COUNTY, "370285%"), (TOWNSHIP, "370285101%"), (VILLAGE, "370285101201%")],
)
def test_subtree_clause_is_a_prefix_like(org: str, pattern: str) -> None:
    cases = table("cases", column("org", String))
    assert compiled(subtree_clause(cases.c.org, org)) == f"cases.org LIKE '{pattern}'"
    assert compiled(subtree_clause(CaseRow.org, OrgCode.parse(org))) == f"cases.org LIKE '{pattern}'"


def test_subtree_clause_in_a_query() -> None:
    stmt = select(CaseRow.id).where(subtree_clause(CaseRow.org, TOWNSHIP))
    assert compiled(stmt).endswith("WHERE cases.org LIKE '370285101%'")
    # Sent as a bound parameter, not spliced into the SQL text.
    sent = stmt.compile(dialect=ASYNCPG)
    assert str(sent).endswith("WHERE cases.org LIKE $1::VARCHAR")
    assert list(sent.params.values()) == ["370285101%"]


def test_subtree_clause_refuses_invalid_codes() -> None:
    with pytest.raises(InvalidOrgCode):
        subtree_clause(CaseRow.org, "37028510%")


def principal_at(org: str, role: Role = Role.clerk) -> Principal:
    return Principal(sub="p", role=role, org=org, name="测试")


def test_ensure_within_hides_other_townships() -> None:
    township_clerk = principal_at(TOWNSHIP)
    ensure_within(township_clerk, TOWNSHIP)
    ensure_within(township_clerk, VILLAGE)
    for outside in (OTHER_TOWNSHIP, "370285102201", COUNTY, OTHER_COUNTY, "garbage"):
        with pytest.raises(NotFound) as caught:
            ensure_within(township_clerk, outside)
        assert caught.value.status == 404
        assert caught.value.detail == "请求的资源不存在"


def test_can_see_follows_the_tree() -> None:
    county = principal_at(COUNTY)
    village = principal_at(VILLAGE, Role.agent)
    assert can_see(county, OTHER_TOWNSHIP) and can_see(county, VILLAGE)
    assert can_see(village, VILLAGE)
    assert not can_see(village, TOWNSHIP)
    assert not can_see(village, "370285101202")
    assert not can_see(county, "not-a-code")


def test_system_role_has_no_bypass() -> None:
    system = principal_at(COUNTY, Role.system)
    assert can_see(system, VILLAGE)
    with pytest.raises(NotFound):
        ensure_within(system, OTHER_COUNTY)
