"""What the audit service's handlers and routes share for one running node."""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from daiban_audit.settings import AuditSettings
from daiban_audit.signing import NodeSigner
from daiban_common.calendar import WorkCalendar, default_calendar
from daiban_common.runtime import ServiceRuntime
from daiban_contracts.orgcodes import OrgCode

CHAIN = "main"


@dataclass(frozen=True)
class AuditContext:
    settings: AuditSettings
    node_org: OrgCode
    node: str
    subject_root: str
    signer: NodeSigner
    calendar: WorkCalendar

    @property
    def parent_org(self) -> OrgCode | None:
        return self.node_org.parent

    def checkpoint_subject(self, org: OrgCode) -> str:
        """The subject of checkpoints addressed to `org`."""
        return f"{self.subject_root}.{org.subject_tokens}.audit.checkpoint_signed"


_CONTEXTS: WeakKeyDictionary[ServiceRuntime, AuditContext] = WeakKeyDictionary()


def audit_context(runtime: ServiceRuntime) -> AuditContext:
    """One context per running service, built on first use (settings read, key loaded)."""
    context = _CONTEXTS.get(runtime)
    if context is None:
        settings = runtime.settings
        context = AuditContext(
            settings=AuditSettings(),
            node_org=runtime.node_org,
            node=settings.node_name,
            subject_root=settings.subject_root,
            signer=NodeSigner.load_or_create(
                settings.var_dir / "keys" / f"{settings.node_name}-audit-ed25519.pem"
            ),
            calendar=default_calendar(),
        )
        _CONTEXTS[runtime] = context
    return context
