"""The door for outside systems: which events a township's own systems may push, and where.

A township's hall system, a 好差评 terminal or a legacy approval system is not a service of the
suite and owns no event type. What it knows (materials a citizen brought, an evaluation, a
complaint) it pushes as an event of the type the owning service would emit, addressed to an
**ingress subject** that names the system:

    <root>.<county6>.<township3>.<village3>.ingress.<system>.<aggregate>.<event>
    daiban.370285.101.294.ingress.jiangshan-hall.case.supplemented

The broker guarantees who published it (a system's credential may publish only to its own
`ingress.<system>` subjects in its township's subtree), so the owning service reads the system from
the subject, not from what the envelope claims, checks the rest, and applies the event through its
own command: the event the suite records is the owning service's, with the system as its actor.
Over HTTP the same events arrive at the owning service's batch endpoint.
"""

from __future__ import annotations

import re

from daiban_contracts.case import CaseEvaluated, CaseSupplemented, ComplaintFiled
from daiban_contracts.envelope import EventData

# What outside systems may push. All three are intake's: a supplement of missing materials, a
# citizen's evaluation (好差评), a complaint.
INGRESS_EVENTS: tuple[type[EventData], ...] = (CaseSupplemented, CaseEvaluated, ComplaintFiled)
INGRESS_TYPES: frozenset[str] = frozenset(event.event_type for event in INGRESS_EVENTS)

# A system's id is one NATS subject token and readable in an audit entry: `jiangshan-hall`.
_SYSTEM_ID = re.compile(r"^[a-z][a-z0-9-]{2,39}$")


class InvalidSystemId(ValueError):
    pass


def check_system_id(system: str) -> str:
    if not _SYSTEM_ID.fullmatch(system):
        raise InvalidSystemId(
            f"外部系统标识{system!r}无效：须以小写字母开头，由小写字母、数字和连字符组成，3至40个字符"
        )
    return system


def system_source(system: str) -> str:
    """The CloudEvents `source` of an event pushed by `system`; anything else is refused."""
    return f"/systems/{check_system_id(system)}"


def system_actor(system: str) -> str:
    """The actor the suite records for what `system` pushed (audit entries, the owning event)."""
    return f"system:{check_system_id(system)}"
