"""Who calls what during `make fuzz`: a development token per role, chosen per operation.

Schemathesis sends one set of headers per operation, so each service names a default caller and
the paths (regular expressions) that another role must call. Every org is a unit of the demo
directory (the county, a township, one of its villages): a token of an unknown org is refused by
design and would only test the 401/403.
"""

from __future__ import annotations

from dataclasses import dataclass

from daiban_common.auth import Role

COUNTY = "370285000000"
TOWNSHIP = "370285101000"
VILLAGE = "370285101294"


@dataclass(frozen=True)
class Caller:
    role: Role
    org: str


@dataclass(frozen=True)
class ServiceAuth:
    callers: dict[str, Caller]
    default: str
    overrides: tuple[tuple[str, str], ...] = ()


AUTH: dict[str, ServiceAuth] = {
    # Village agents file applications and see their own cases; complaints need no token.
    "intake": ServiceAuth(callers={"agent": Caller(Role.agent, VILLAGE)}, default="agent"),
    "catalogue": ServiceAuth(callers={"admin": Caller(Role.admin, COUNTY)}, default="admin"),
    # The directory and supervision are a county supervisor's; tasks a township clerk's; home visits
    # a village agent's.
    "routing": ServiceAuth(
        callers={
            "supervisor": Caller(Role.supervisor, COUNTY),
            "clerk": Caller(Role.clerk, TOWNSHIP),
            "agent": Caller(Role.agent, VILLAGE),
        },
        default="supervisor",
        overrides=(("^/v1/tasks", "clerk"), ("/home-visit$", "agent")),
    ),
    "audit": ServiceAuth(callers={"auditor": Caller(Role.auditor, COUNTY)}, default="auditor"),
}
