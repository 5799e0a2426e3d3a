"""What the demo knows of the county: its org units, people, windows and items, read over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import OrgCode, Tier


class DemoError(RuntimeError):
    """A step of the demo did not go as the services should let it."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    org: str
    windows: tuple[str, ...]


@dataclass(frozen=True)
class WindowInfo:
    org: str
    number: str
    departments: tuple[str, ...]
    a_post: str | None
    b_post: str | None


@dataclass(frozen=True)
class ItemInfo:
    code: str
    name: str
    kind: str
    level: str
    acceptable: tuple[str, ...]
    departments: tuple[str, ...]
    materials: tuple[dict[str, Any], ...]
    procedures: tuple[str, ...]
    limit: int
    online: bool
    legal_basis: tuple[str, ...]

    @property
    def needed(self) -> list[dict[str, Any]]:
        """The materials a citizen must bring (government-issued ones are fetched by the window)."""
        return [m for m in self.materials if m["required"] and m.get("source") != "government"]


@dataclass
class World:
    county: str
    orgs: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # code: name, tier, parent
    staff: dict[str, Person] = field(default_factory=dict)
    windows: list[WindowInfo] = field(default_factory=list)
    items: list[ItemInfo] = field(default_factory=list)

    def name(self, org: str) -> str:
        return self.orgs[org][0] if org in self.orgs else org

    def tier(self, org: str) -> str:
        return self.orgs[org][1]

    def of_tier(self, tier: str) -> list[str]:
        return sorted(code for code, (_, t, _) in self.orgs.items() if t == tier)

    def deciding_org(self, item: ItemInfo, accepting: str) -> str:
        """The ancestor of `accepting` at the item's handling level (the county for escalated items)."""
        if item.level == Tier.above_county.value:
            return self.county
        code = OrgCode.parse(accepting)
        while code.tier.value != item.level:
            parent = code.parent
            if parent is None:
                raise DemoError(f"{accepting} has no {item.level} above it")
            code = parent
        return code.value

    def windows_for(self, org: str, department: str) -> list[WindowInfo]:
        return [w for w in self.windows if w.org == org and department in w.departments]

    def people(self, org: str, *roles: str) -> list[Person]:
        return sorted(
            (p for p in self.staff.values() if p.org == org and p.role in roles), key=lambda p: p.id
        )


def bearer(settings: Settings, person: Person | None = None, **claims: str) -> dict[str, str]:
    """Authorization header for a person of the directory, or for ad-hoc claims (sub, role, org)."""
    if person is not None:
        claims = {"sub": person.id, "role": person.role, "org": person.org, "name": person.name}
    token = issue_token(
        settings,
        sub=claims["sub"],
        role=Role(claims["role"]),
        org=claims["org"],
        name=claims.get("name", claims["sub"]),
        ttl_seconds=3600,
    )
    return {"Authorization": f"Bearer {token}"}


async def pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paginated list."""
    query: dict[str, Any] = {"limit": 100, **params}
    while True:
        response = await client.get(path, params=query, headers=headers)
        if response.status_code != 200:
            raise DemoError(f"GET {path}: {response.status_code} {response.text[:300]}")
        body = response.json()
        for item in body["items"]:
            yield item
        if not body.get("next_cursor"):
            return
        query["cursor"] = body["next_cursor"]


async def read_world(client: Callable[[str], httpx.AsyncClient], settings: Settings, county: str) -> World:
    """The directory (routing) and the published items (catalogue) of `county`."""
    admin = bearer(settings, sub="demo:history", role="admin", org=county)
    world = World(county=county)
    routing = client("routing")
    async for org in pages(routing, "/v1/orgs", admin):
        world.orgs[org["code"]] = (org["name"], org["tier"], org["parent_code"])
    async for s in pages(routing, "/v1/staff", admin):
        world.staff[s["staff_id"]] = Person(
            s["staff_id"], s["name"], s["role"], s["org"], tuple(s["windows"])
        )
    async for w in pages(routing, "/v1/windows", admin):
        world.windows.append(
            WindowInfo(w["org"], w["number"], tuple(w["departments"]), w["a_post"], w["b_post"])
        )
    async for i in pages(client("catalogue"), "/v1/items", admin):
        if i["status"] != "published":
            continue
        deps = i["departments"]
        world.items.append(
            ItemInfo(
                code=i["item_code"],
                name=i["name"],
                kind=i["kind"],
                level=i["handling_level"],
                acceptable=tuple(i["acceptable_tiers"]),
                departments=(deps["lead"], *deps.get("others", ())),
                materials=tuple(i["materials"]),
                procedures=tuple(p["procedure"] for p in i.get("special_procedures", ())),
                limit=int(i["promised_working_days"]),
                online=bool(i["online_available"]),
                legal_basis=tuple(f"{b['law']}{b['article']}" for b in i["legal_basis"]),
            )
        )
    world.items.sort(key=lambda it: it.code)
    return world
