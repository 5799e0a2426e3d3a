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
    # A staff member of the demo directory at `org`, for routes that only they may call.
    staff_id: str | None = None


@dataclass(frozen=True)
class ServiceAuth:
    callers: dict[str, Caller]
    default: str
    overrides: tuple[tuple[str, str], ...] = ()


AUTH: dict[str, ServiceAuth] = {
    # Village agents file applications and see their own cases; complaints need no token. Intake
    # lets only staff of the directory accept.
    "intake": ServiceAuth(callers={"agent": Caller(Role.agent, VILLAGE, "js-294-agent")}, default="agent"),
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
# A service not named above (a new one) is tried as the county's administrator.
DEFAULT_AUTH = ServiceAuth(callers={"admin": Caller(Role.admin, COUNTY)}, default="admin")

# Every service's dead letters (daiban_common.deadletters) are for supervisors and admins.
DEAD_LETTERS = "^/v1/dead-letters"


def _with_dead_letters(auth: ServiceAuth) -> ServiceAuth:
    return ServiceAuth(
        callers={**auth.callers, "settler": Caller(Role.supervisor, COUNTY)},
        default=auth.default,
        overrides=((DEAD_LETTERS, "settler"), *auth.overrides),
    )


AUTH = {name: _with_dead_letters(auth) for name, auth in AUTH.items()}
DEFAULT_AUTH = _with_dead_letters(DEFAULT_AUTH)


# Operations whose 422 answers a rule no JSON Schema can state: a cursor is valid only if this
# server issued it for this list; a range's end must not precede its start and a statistics window
# is at most 366 days; a checkpoint's signature must verify; a date may not lie in the past; an
# item, window or staff member must exist and fit the org (materials of the item, departments of
# the org, windows of the township); conditional fields (a complaint about a case names the case).
# Each 422 names the field at fault and is documented on its operation; schemathesis counts such a
# 422 for schema-valid data as a failure unless told, per operation, that it may happen.
SEMANTIC_422: dict[str, tuple[str, ...]] = {
    "intake": (
        "^/v1/cases$",  # cursor
        "^/v1/applications$",  # the item's materials, an ID number for a person
        "^/v1/complaints$",  # a complaint about a case names the case
        "^/v1/public/evaluations$",  # scores are of the five named aspects
        "/supplements$",  # the item's materials
    ),
    "catalogue": (
        "^/v1/items$",  # cursor; the catalogue's rules for a new item
        "^/v1/items/[^/]+$",  # the rules for an item's content
        "/versions$",  # cursor
        "/diff$",  # versions that exist
        "/(publish|delegate|retire)$",  # effective dates from today on
        "^/v1/reform-stats$",  # from <= to
    ),
    "routing": (
        "^/v1/(orgs|departments|windows|staff|tasks|notifications|supervision/flags)$",  # cursor; fit
        "^/v1/public/service-points$",  # cursor
        "^/v1/(departments|windows|staff)/import$",  # the CSV's header and rows
        "^/v1/(windows|staff)/[^/]+$",  # departments and windows of the org; number fixed
        "/duty$",  # an absence ends after it starts
        "/home-visit$",  # from today on
        "/decide$",  # an approval states its result
    ),
    "audit": (
        "^/v1/audit/(entries|checkpoints)$",  # cursor
        "^/v1/audit/verify$",  # to_seq >= from_seq; checkpoint signatures
        "^/v1/stats$",  # to >= from, at most 366 days
    ),
}
# Dead letters, on every service: cursor; to >= from; a discard's reason in Chinese; a corrected
# event that fits its type and keeps its id.
SEMANTIC_422 = {name: (*patterns, DEAD_LETTERS) for name, patterns in SEMANTIC_422.items()}
