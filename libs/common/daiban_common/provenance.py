"""What a consumer checks of an event before a handler sees it: that its subject, type, `org` and
`source` agree with each other.

The broker guarantees who may publish a subject (each service's NATS identity may publish only
the types it owns: daiban_devtools.natsusers); an envelope's own claims are checked against it
here. An event that disagrees is never applied: the consumer parks it with the reason.
What outside systems push (`.ingress.` subjects) is checked by the service that reads it: its
source must name the system of the subject (daiban_contracts.ingress).
"""

from __future__ import annotations

import re
from functools import lru_cache

from daiban_contracts.crossing import copied_as
from daiban_contracts.envelope import Envelope, UnknownEventType, type_parts
from daiban_contracts.orgcodes import InvalidOrgCode
from daiban_contracts.ownership import UnownedEventType, owner
from daiban_contracts.subjects import CopyKind, Subjects

# `/daiban/<node>/<service>`, as daiban_common.runtime builds it.
_SERVICE_SOURCE = re.compile(r"^/daiban/[^/]+/(?P<service>[a-z]+)$")


def inconsistency(subjects: Subjects, subject: str, envelope: Envelope) -> str | None:
    """Why the event on `subject` cannot be what it says it is, or None when it agrees."""
    return _inconsistency(subjects, subject, envelope.type, envelope.org, envelope.source)


# Every event a consumer applies is checked, and the answer depends on a handful of values that
# repeat from event to event (a subject, type and source per org); the checks cost ~26 Python
# calls, the cache one. Bounded: the orgs of a province's subtree and its sources fit many times.
@lru_cache(maxsize=8192)
def _inconsistency(subjects: Subjects, subject: str, type_name: str, org: str, source: str) -> str | None:
    tokens = subject.split(".")
    if "ingress" in tokens[4:5]:
        return None
    try:
        aggregate, event, _ = type_parts(type_name)
    except UnknownEventType:
        return f"事件类型{type_name!r}格式无效"
    if len(tokens) == 8 and tokens[4] == "copy":
        kind = tokens[5]
        if tokens[6:] != [aggregate, event]:
            return f"副本主题{subject}与其中事件的类型{type_name}不符"
        if kind not in CopyKind.__members__ or not copied_as(CopyKind(kind), type_name):
            return f"事件类型{type_name}不以{kind}副本发送"
    else:
        try:
            expected = subjects.of_type(type_name, org)
        except InvalidOrgCode:
            return f"事件的org {org!r}不是有效的区划代码"
        if subject != expected:
            return f"主题{subject}与事件的类型和org不符（应为{expected}）"
    return _source_problem(type_name, source)


def _source_problem(type_name: str, source: str) -> str | None:
    try:
        service = owner(type_name)
    except UnownedEventType:
        # A type this release does not know: the broker alone vouches for it.
        return None
    found = _SERVICE_SOURCE.fullmatch(source)
    if found is None or found["service"] != service.value:
        return f"事件类型{type_name}只能由{service.value}服务发出，来源却是{source!r}"
    return None
