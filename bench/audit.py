"""Audit: entries appended per second, chain verification speed, and the hashing ceiling.

- Append: a burst of events (one-time notices of village points, which only audit consumes) is
  published straight to the node's stream; the log consumer appends them one by one (row-locked
  chain head, entry, inbox row, commit) while the statistics consumer counts them. Rate = burst
  size / time between the first and last entry's `recorded_at`.
- Verify: `GET /v1/audit/verify` over the whole chain (everything the run logged), as an auditor.
- Ceiling: SHA-256 of the same entries' canonical bytes (RFC 8785, as the chain defines them) in a
  loop; and, to show where verification time goes, canonicalising + hashing them in-process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.suite import COUNTY, Suite
from daiban_audit.domain.chain import Entry, canonical_entry
from daiban_common.auth import Role
from daiban_contracts.case import MaterialIssue, OneTimeNoticeIssued, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.subjects import Subjects

CEILING_ENTRIES = 200_000


def _notice(i: int, village: str) -> OneTimeNoticeIssued:
    return OneTimeNoticeIssued(
        notice_number=f"{village}-20261201-G{i:05d}",
        item_implementation_code="JF-00402-001-370285000000-01",
        item_name="特困人员救助供养审核确认",
        org=village,
        issued_by=StaffRef(staff_id=f"bench-agent-{village}", name="村代办员", org=village),
        issues=(
            MaterialIssue(
                material_code="M03",
                material_name="家庭经济状况核对授权书",
                problem="missing",
                required_form="original",
                required_copies=1,
            ),
        ),
        issued_at=datetime.now(UTC),
    )


VILLAGES = ["370285101294", "370285102210", "370285104303", "370285108266"]


def notices(count: int) -> list[Envelope]:
    """`count` one-time notices of village points, as the county node's intake sends them."""
    return [
        make_envelope(
            _notice(i, VILLAGES[i % len(VILLAGES)]),
            source="/daiban/n370285000000/intake",
            subject=f"N{i}",
            org=VILLAGES[i % len(VILLAGES)],
            actor="bench",
        )
        for i in range(count)
    ]


async def append_rate(suite: Suite, count: int, within: float) -> dict[str, Any]:
    envelopes = notices(count)
    # As the county node's intake, the owner of one-time notices: the broker and audit's consumer
    # take them from nobody else.
    nc = await suite.nats("intake")
    js = nc.jetstream()
    try:
        for offset in range(0, count, 256):
            window = envelopes[offset : offset + 256]
            acks = [
                await js.publish_async(Subjects().of(env), env.to_bytes(), headers={"Nats-Msg-Id": env.id})
                for env in window
            ]
            await asyncio.gather(*acks)
    finally:
        await nc.close()
    ids = [env.id for env in envelopes]
    conn = await suite.connect()
    try:
        deadline = time.monotonic() + within
        logged = 0
        while time.monotonic() < deadline:
            logged = await conn.fetchval("SELECT count(*) FROM audit.entries WHERE event_id = ANY($1)", ids)
            if logged == count:
                break
            await asyncio.sleep(0.5)
        first, last = await conn.fetchrow(
            "SELECT min(recorded_at), max(recorded_at) FROM audit.entries WHERE event_id = ANY($1)", ids
        )
    finally:
        await conn.close()
    seconds = (last - first).total_seconds() if first and last else 0.0
    return {
        "events": count,
        "logged": logged,
        "seconds": round(seconds, 2),
        "per_s": round((logged - 1) / seconds, 1) if seconds > 0 else None,
    }


async def verify_rate(suite: Suite, repeats: int) -> dict[str, Any]:
    token = suite.token(Role.auditor, COUNTY, "bench-auditor", name="审计人员")
    runs = []
    async with httpx.AsyncClient(base_url=suite.url("audit"), timeout=600) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = await client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {token}"})
            elapsed = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200 or not body.get("ok"):
                raise RuntimeError(f"verification failed: {response.status_code} {body}")
            runs.append((body["checked"] / elapsed, body["checked"], elapsed))
    best = max(runs)
    return {
        "entries": best[1],
        "seconds": round(best[2], 2),
        "per_s": round(best[0]),
        "runs_per_s": [round(r[0]) for r in runs],
    }


async def hash_ceiling(suite: Suite) -> dict[str, Any]:
    conn = await suite.connect()
    try:
        rows = await conn.fetch(
            "SELECT seq, event_id, type, source, subject, time, recorded_at, org, actor, data, "
            "prev_hash, hash FROM audit.entries ORDER BY seq LIMIT $1",
            CEILING_ENTRIES,
        )
    finally:
        await conn.close()
    entries = [Entry(**{**dict(row), "data": json.loads(row["data"])}) for row in rows]
    started = time.perf_counter()
    canonical = [canonical_entry(entry) for entry in entries]
    digests = [hashlib.sha256(raw).hexdigest() for raw in canonical]
    in_process = time.perf_counter() - started
    mismatched = sum(d != e.hash for d, e in zip(digests, entries, strict=True))
    # The ceiling: the same bytes, hashed in a loop (best of three).
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for raw in canonical:
            hashlib.sha256(raw).hexdigest()
        best = min(best, time.perf_counter() - started)
    n = len(entries)
    return {
        "entries": n,
        "mean_bytes": round(sum(map(len, canonical)) / n) if n else 0,
        "sha256_per_s": round(n / best) if best > 0 else None,
        "canonicalise_and_hash_per_s": round(n / in_process) if in_process > 0 else None,
        "hash_mismatches": mismatched,
    }


async def run(suite: Suite, *, burst: int, verify_repeats: int, within: float) -> dict[str, Any]:
    print(f"  appending a burst of {burst} events")
    append = await append_rate(suite, burst, within)
    print(f"    {append['per_s']} entries/s")
    print("  verifying the chain over HTTP")
    verify = await verify_rate(suite, verify_repeats)
    print(f"    {verify['per_s']} entries/s over {verify['entries']} entries")
    ceiling = await hash_ceiling(suite)
    print(f"    ceiling: sha256 {ceiling['sha256_per_s']}/s")
    sha = ceiling["sha256_per_s"] or 0
    return {
        "append": append,
        "verify": verify,
        "ceiling": ceiling,
        "append_ratio": round(append["per_s"] / sha, 5) if sha and append["per_s"] else None,
        "verify_ratio": round(verify["per_s"] / sha, 4) if sha else None,
    }
