"""The applications the benchmark sends: valid demo data, as village agents would record it.

County items that villages may accept (so every case travels village -> township -> county and
is assigned at a county window), from the items intake's catalogue replica holds; village agents
of villages spread over the county, one token each; applicants with valid resident ID numbers
(GB 11643 check digit), checked with the identity helpers intake itself uses.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
from stdnum.cn import ric

from bench.suite import Suite
from daiban_common.auth import Role
from daiban_common.identity import normalize_resident_id

# Promised county items acceptable at a village whose department has a county window in the demo
# directory (so assignment goes to an A post, as it does for most real cases).
ITEMS = (
    "JF-00402-001-370285000000-01",  # 特困人员救助供养审核确认 (civil affairs)
    "JF-00404-001-370285000000-01",
    "JF-00405-001-370285000000-01",
    "JF-00602-002-370285000000-01",  # human resources
    "JL-00303-001-370285000000-01",  # market regulation
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")


def resident_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    body = f"370285{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return normalize_resident_id(body + ric.calc_check_digit(body + "0"))


@dataclass(frozen=True)
class Agent:
    village: str
    token: str


async def villages(conn: asyncpg.Connection, count: int) -> list[tuple[str, str]]:
    """`count` villages of the county, spread over its townships, each with an agent of the
    directory there (intake refuses anyone else)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (u.code) u.code, s.id FROM routing.org_units u "
        "JOIN routing.staff s ON s.org = u.code AND s.role = 'agent' "
        "WHERE u.tier = 'village' AND u.code LIKE '370285%' ORDER BY u.code, s.id"
    )
    pairs = [(r["code"], r["id"]) for r in rows]
    step = max(1, len(pairs) // count)
    return pairs[::step][:count]


async def item_materials(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every required material of each item, in the form and number the item asks for."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (implementation_code) implementation_code, data FROM intake.item_versions "
        "WHERE implementation_code = ANY($1::text[]) ORDER BY implementation_code, version DESC",
        list(ITEMS),
    )
    found = {}
    for row in rows:
        data = json.loads(row["data"])
        found[row["implementation_code"]] = [
            {"code": m["code"], "form": m["form"], "copies": m["copies"]}
            for m in data["materials"]
            if m["required"]
        ]
    return found


async def application_variants(
    suite: Suite, *, agents: int = 24, variants: int = 512
) -> list[dict[str, Any]]:
    """Requests for the load generator: body and headers; it adds a unique Idempotency-Key."""
    conn = await suite.connect()
    try:
        orgs = await villages(conn, agents)
        materials = await item_materials(conn)
    finally:
        await conn.close()
    people = [Agent(org, suite.token(Role.agent, org, staff_id, name="村代办员")) for org, staff_id in orgs]
    rng = random.Random(8)
    built = []
    for i in range(variants):
        agent = people[i % len(people)]
        item = ITEMS[i % len(ITEMS)]
        body = {
            "item_code": item,
            "org": agent.village,
            "channel": "agent",
            "applicant": {
                "kind": "person",
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "id_number": resident_id(rng),
                "phone": f"138{rng.randrange(0, 10**8):08d}",
                "address": "莱西市某村",
            },
            "materials": materials[item],
        }
        built.append(
            {
                "method": "POST",
                "path": "/v1/applications",
                "headers": {"Authorization": f"Bearer {agent.token}"},
                "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            }
        )
    return built
