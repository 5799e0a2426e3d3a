"""One settings object per process, read from `DAIBAN_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode

if TYPE_CHECKING:
    from daiban_common.service import ServiceSpec

_PORT_VARIABLE = re.compile(r"DAIBAN_(?P<name>[A-Z][A-Z0-9_]*)_PORT")
# Ports of the settings' own fields, not of services.
_NOT_SERVICES = frozenset({"EMBEDDED_PG", "EMBEDDED_NATS"})

DEV_SECRET_MARKER = "dev-"
# An origin as browsers send it in the Origin header: no path, no trailing slash, no wildcard.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration of one node: which org unit it serves and where its servers are."""

    model_config = SettingsConfigDict(env_prefix="DAIBAN_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    # The org unit this node serves; the tier follows from the code.
    org: str = "370285000000"
    var_dir: Path = Path("var")
    # The division data (data/divisions of the repository) a county's directory and demo catalogue
    # are built from; empty: the checkout's (an installed node names its copy).
    divisions_dir: Path | None = None
    # Empty means "start the embedded server under var_dir".
    database_url: str = ""
    nats_url: str = ""
    # This process's NATS identity (a deployment gives each service its own), or a folder of
    # `<service>.json` files ({"user": ..., "password": ...}) when one process or one environment
    # serves several services (`daiban run` writes var/nats/secrets/<node>/). Neither: connect
    # without credentials (an external server without authentication).
    nats_user: str = ""
    nats_password: str = ""
    nats_credentials: Path | None = None
    embedded_pg_port: int = 55432
    embedded_nats_port: int = 54222
    # Node name distinguishes databases and durable consumers when several nodes share servers.
    node: str = ""
    # Org units within `org` that run a node of their own (e.g. a township node below the county
    # node): this node leaves their cases to them. `DAIBAN_CHILD_NODES=370285101000,370285102000`.
    child_nodes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    stream_name: str = "DAIBAN"
    # First token of every subject; a deployment (or a test) can keep several networks on one server.
    subject_root: str = Field(default="daiban", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    jwt_secret: str = ""
    jwt_algorithm: str = "HS256"
    jwks_url: str = ""
    jwt_issuer: str = "daiban"
    token_ttl_seconds: int = 12 * 3600
    host: str = "127.0.0.1"
    # Ports by service name; a service not named here listens on its `ServiceSpec.default_port`
    # plus `port_offset`. `DAIBAN_<NAME>_PORT` (e.g. DAIBAN_INTAKE_PORT=9001) fills this in.
    ports: dict[str, int] = Field(default_factory=dict)
    port_offset: int = Field(default=0, ge=0, le=60_000)
    # A connection must send each request head whole within this many seconds, and an idle
    # kept-alive connection is closed after the second (see daiban_common.httpserver).
    http_header_timeout: float = Field(default=5.0, gt=0, le=300)
    http_keep_alive_timeout: float = Field(default=5.0, gt=0, le=300)
    # Failed attempts (wrong case number or query code) a client may make per minute on the public
    # endpoints that take a query code, before 429 (see daiban_common.ratelimit).
    public_rate_limit: int = Field(default=20, ge=1, le=1_000_000)
    # Proxies (IPs or networks) whose X-Forwarded-For names the client; nobody else's is believed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Origins of front ends served from other hosts that may call the API from a browser, exactly
    # as the browser sends them (`https://zwfw.example.cn`); empty: CORS off (daiban_common.cors).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    otlp_endpoint: str = ""
    outbox_batch: int = Field(default=256, ge=1, le=10_000)
    consumer_max_deliver: int = Field(default=5, ge=1, le=100)
    consumer_batch: int = Field(default=64, ge=1, le=1_000)
    # Seconds JetStream waits for an ack before redelivering (after a kill, say); the consumer
    # sends in_progress() heartbeats for work that takes longer.
    consumer_ack_wait: float = Field(default=10.0, ge=1.0, le=600.0)
    # A consumer that has neither finished a message nor found its stream empty for this long
    # makes /readyz answer 503.
    consumer_stall_seconds: float = Field(default=60.0, gt=0, le=3600.0)
    # Salt for the hashes of personal data carried by events that leave the node.
    pii_salt: str = ""

    @field_validator("child_nodes", mode="before")
    @classmethod
    def _split_child_nodes(cls, value: object) -> object:
        return _comma_separated(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_trusted_proxies(cls, value: object) -> object:
        return _checked_entries(value, "DAIBAN_TRUSTED_PROXIES", _not_a_network)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_cors_origins(cls, value: object) -> object:
        return _checked_entries(value, "DAIBAN_CORS_ORIGINS", _not_an_origin)

    @model_validator(mode="before")
    @classmethod
    def _ports_from_environment(cls, data: Any) -> Any:
        """`DAIBAN_<NAME>_PORT` for any service name (services are discovered, not listed here);
        ports given explicitly win."""
        if not isinstance(data, dict):
            return data
        found = {
            match["name"].lower(): value
            for variable, value in os.environ.items()
            if (match := _PORT_VARIABLE.fullmatch(variable)) and match["name"] not in _NOT_SERVICES
        }
        if not found:
            return data
        return {**data, "ports": {**found, **dict(data.get("ports") or {})}}

    @model_validator(mode="after")
    def _child_nodes_lie_below_this_node(self) -> Settings:
        if not self.child_nodes:
            return self
        node = OrgCode.parse(self.org)
        for raw in self.child_nodes:
            try:
                child = OrgCode.parse(raw)
            except InvalidOrgCode as exc:
                raise ValueError(f"DAIBAN_CHILD_NODES: {exc}") from None
            if child == node or not child.is_within(node):
                raise ValueError(f"DAIBAN_CHILD_NODES: {raw} is not below this node's org {self.org}")
        return self

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.jwt_algorithm == "HS256" and (
                not self.jwt_secret or self.jwt_secret.startswith(DEV_SECRET_MARKER)
            ):
                raise ValueError("DAIBAN_JWT_SECRET must be set to a real secret in production")
            if not self.pii_salt or self.pii_salt.startswith(DEV_SECRET_MARKER):
                raise ValueError("DAIBAN_PII_SALT must be set to a real secret in production")
        return self

    @property
    def node_name(self) -> str:
        return self.node or f"n{self.org}"

    def hosts(self, org: str | OrgCode) -> bool:
        """Whether this node acts for `org`: within its subtree and not below a child node's org."""
        code = org if isinstance(org, OrgCode) else OrgCode.parse(org)
        if not code.is_within(OrgCode.parse(self.org)):
            return False
        return not any(code.is_within(OrgCode.parse(child)) for child in self.child_nodes)

    def service_port(self, service: ServiceSpec) -> int:
        return self.ports.get(service.name, service.default_port + self.port_offset)

    def resolved_jwt_secret(self) -> str:
        """The HS256 secret; in development a generated one kept under var_dir."""
        if self.jwt_secret:
            return self.jwt_secret
        return _dev_secret(self.var_dir / "dev-jwt-secret")

    def resolved_pii_salt(self) -> str:
        if self.pii_salt:
            return self.pii_salt
        return _dev_secret(self.var_dir / "dev-pii-salt")


def _comma_separated(value: object) -> object:
    """`a, b,` from the environment as ["a", "b"]; anything else (a list given in code) as is."""
    if isinstance(value, str):
        return [entry.strip() for entry in value.split(",") if entry.strip()]
    return value


def _checked_entries(value: object, variable: str, fault: Callable[[str], str | None]) -> object:
    """The comma-separated entries of `variable`, each refused with what `fault` finds wrong."""
    value = _comma_separated(value)
    if isinstance(value, list):
        for entry in value:
            if (problem := fault(str(entry))) is not None:
                raise ValueError(f"{variable}: {entry} {problem}")
    return value


def _not_a_network(entry: str) -> str | None:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return "is not an IP address or network"
    return None


def _not_an_origin(entry: str) -> str | None:
    return None if _ORIGIN.fullmatch(entry) else "is not an origin (scheme://host[:port], no path)"


def _dev_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = DEV_SECRET_MARKER + secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value)
    tmp.chmod(0o600)
    tmp.replace(path)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
