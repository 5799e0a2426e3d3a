"""What the audit service's routes, consumers and jobs share, built once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from daiban_audit.domain.signing import NodeSigner
from daiban_audit.settings import AuditSettings
from daiban_common.calendar import WorkCalendar, default_calendar
from daiban_common.deps import get_runtime
from daiban_common.runtime import ServiceRuntime
from daiban_contracts.orgcodes import OrgCode


@dataclass(frozen=True)
class AuditContext:
    settings: AuditSettings
    node_org: OrgCode
    node: str
    signer: NodeSigner
    calendar: WorkCalendar

    @property
    def parent_org(self) -> OrgCode | None:
        return self.node_org.parent


def build_context(runtime: ServiceRuntime) -> AuditContext:
    settings = runtime.settings
    return AuditContext(
        settings=AuditSettings(),
        node_org=runtime.node_org,
        node=settings.node_name,
        signer=load_or_create_signer(settings.var_dir / "keys" / f"{settings.node_name}-audit-ed25519.pem"),
        calendar=default_calendar(),
    )


def load_or_create_signer(path: Path) -> NodeSigner:
    """The node's Ed25519 key: generated on first use under the var directory, never leaving the node."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return NodeSigner(key)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # Created 0600 from the start: the key must never be readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    tmp.replace(path)
    return NodeSigner(key)


async def _context(request: Request) -> AuditContext:
    return cast(AuditContext, get_runtime(request).context)


ContextDep = Annotated[AuditContext, Depends(_context)]
