"""A year of history, loaded in bulk: `count` cases (1,000,000 by default) decided at the county.

Loaded with INSERT ... SELECT over generate_series straight into the services' own tables, the
way a migration from an older system would be, never through HTTP (a million requests would
not fit the time budget). What is written is what the services themselves would hold after a
year of the village -> county journey:

- routing: `cases` (one per case: concluded ones back at the village, ready for handover; the
  recent ones still in review at the county) and `tasks` (one per case, at the county window of
  the item's department), and `flags` for the open cases supervision has flagged, so the periodic
  sweep has nothing new to announce (it would, if flags were missing, emit thousands of events);
- audit: `case_facts` (one per case) and `stat_counters`, derived from the same generated cases
  by the rules of `daiban_audit.domain.stats` (rolled up village -> township -> county, per
  total, child unit, department, window and staff; acceptance, conclusion and evaluation metrics).

Deadlines and supervision flags come from the services' own rules (working-day calendar, the
supervision policy), evaluated once per (start day, limit) in Python and joined in SQL.
Intake's own copy of the cases, the hops, timelines and the audit log entries of that year are
not generated: the measured queries (supervision flags, statistics) do not read them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.suite import COUNTY, Suite
from bench.workload import ITEMS
from daiban_common.calendar import default_calendar, today_in_shanghai
from daiban_contracts.case import ApplicantRef, CaseSummary, ItemRef, StaffRef
from daiban_contracts.catalogue import ItemVersionData
from daiban_routing.domain.clock import Clock
from daiban_routing.domain.supervision import CaseWatch, Policy, evaluate

SCHEMA = "bench_history"
DAYS = 365
# Cases accepted in the last OPEN_DAYS days are still open, but for every third one.
# Sequence numbers of the history start at 9001: the demo data's own cases count from 0001.
OPEN_DAYS = 14


async def _items(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Each benchmark item with its county window and the A post who decides there."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (implementation_code) data FROM intake.item_versions "
        "WHERE implementation_code = ANY($1::text[]) ORDER BY implementation_code, version DESC",
        list(ITEMS),
    )
    items = []
    for index, row in enumerate(rows):
        item = ItemVersionData.model_validate(json.loads(row["data"]))
        dept = item.departments.lead
        window = await conn.fetchrow(
            "SELECT w.id, w.number, w.a_post, d.name FROM routing.windows w "
            "JOIN routing.departments d ON d.org = w.org AND d.code = $2 "
            "WHERE w.org = $1 AND $2 = ANY(w.departments) ORDER BY w.number LIMIT 1",
            COUNTY,
            dept,
        )
        if window is None:
            raise RuntimeError(f"no county window for {dept}")
        ref = ItemRef(
            implementation_code=item.implementation_code,
            base_code=item.base_code,
            version=item.version,
            name=item.name,
            kind=item.kind,
            handling_level=item.handling_level,
            implementing_org=item.implementing_org,
            lead_department=dept,
            statutory_working_days=item.statutory_working_days,
            promised_working_days=item.promised_working_days,
        )
        summary = CaseSummary(
            case_number="370285101294-20260101-0001",
            item=ref,
            accepting_org="370285101294",
            channel="agent",
            applicant=ApplicantRef(
                kind="person", name_masked="张*", id_masked="370285********0011", id_hash="0" * 64
            ),
            first_responder=StaffRef(staff_id="bench-agent", name="村代办员", org="370285101294"),
            accepted_at=datetime(2026, 1, 1, tzinfo=UTC),
            promised_date=date(2026, 1, 15),
        )
        items.append(
            {
                "idx": index,
                "code": item.implementation_code,
                "kind": item.kind.value,
                "dept": dept,
                "dept_name": window["name"],
                "window_id": window["id"],
                "window_number": window["number"],
                "decider": window["a_post"],
                "limit": item.promised_working_days,
                "summary": summary.model_dump_json(),
            }
        )
    return items


def _clocks(today: date, limits: set[int]) -> list[tuple[date, int, date, str | None]]:
    """(start day, limit) -> deadline and, for a case still open today, its supervision flag."""
    calendar = default_calendar()
    policy = Policy()
    found = []
    for back in range(1, DAYS + 1):
        start = today - timedelta(days=back)
        for limit in limits:
            clock = Clock(start=start, limit_working_days=limit)
            due = clock.due(today, calendar).date
            flag = evaluate(
                CaseWatch(clock=clock, last_activity=start, waiting=False), today, calendar, policy
            )
            found.append((start, limit, due, flag.level.value if flag else None))
    return found


GENERATE = f"""
CREATE UNLOGGED TABLE {SCHEMA}.cases AS
SELECT c.*,
       k.code AS item_code, k.kind, k.dept, k.dept_name, k.window_id, k.window_number, k.decider,
       k.lim, k.summary, ck.due, ck.flag,
       (c.open) AS is_open,
       CASE WHEN c.open THEN NULL
            ELSE least(c.day + (1 + c.i % (k.lim + 4))::int, $3::date - 1) END AS decided_day
FROM (
    SELECT i,
           v.code AS village,
           ($3::date - (1 + i % {DAYS})::int) AS day,
           (i / ($2 * {DAYS})) + 1 AS seq,
           (1 + i % {DAYS}) <= {OPEN_DAYS} AND (i / {DAYS}) % 3 <> 0 AS open,
           (i * 7919) % $4 AS item_idx
    FROM generate_series(0::bigint, $1::bigint - 1) AS i
    JOIN {SCHEMA}.villages v ON v.idx = (i / {DAYS}) % $2
) c
JOIN {SCHEMA}.items k ON k.idx = c.item_idx
JOIN {SCHEMA}.clocks ck ON ck.start_day = c.day AND ck.lim = k.lim
"""

ROUTING_CASES = f"""
INSERT INTO routing.cases (case_number, accepting_org, current_org, deciding_org, status, summary,
    first_responder_id, green_channel, accepted_at, start_date, limit_working_days,
    extension_working_days, due_date, due_provisional, supplement_requested, home_visit, outcome,
    result, reasons, legal_basis, decided_at, decided_by, last_activity_at)
SELECT number, village, CASE WHEN is_open THEN '{COUNTY}' ELSE village END, '{COUNTY}',
       CASE WHEN is_open THEN 'in_review' ELSE 'ready_for_handover' END,
       summary::jsonb || jsonb_build_object('case_number', number, 'accepting_org', village,
           'accepted_at', accepted_at, 'promised_date', due,
           'first_responder', jsonb_build_object('staff_id', agent, 'name', '村代办员', 'org', village)),
       agent, false, accepted_at, day, lim, 0, due, false, false, false,
       CASE WHEN is_open THEN NULL WHEN refused THEN 'refused' ELSE 'approved' END,
       CASE WHEN is_open OR refused THEN NULL ELSE 'BENCH-' || i END,
       '[]', '[]', decided_at,
       CASE WHEN is_open THEN NULL
            ELSE jsonb_build_object('staff_id', decider, 'name', '审批人员', 'org', '{COUNTY}') END,
       coalesce(decided_at, accepted_at + interval '1 hour')
FROM {SCHEMA}.facts
"""

ROUTING_TASKS = f"""
INSERT INTO routing.tasks (id, case_number, org, department, department_name, lead, kind, window_id,
    window_number, staff_id, post, status, priority, limit_working_days, due_date, created_at,
    claimed_at, decided_at, decided_by, outcome, result, reasons, legal_basis)
SELECT gen_random_uuid()::text, number, '{COUNTY}', dept, dept_name, true, 'review', window_id,
       window_number, decider, 'a', CASE WHEN is_open THEN 'in_review' ELSE 'decided' END, 1, lim, due,
       accepted_at + interval '1 hour', accepted_at + interval '2 hours', decided_at,
       CASE WHEN is_open THEN NULL
            ELSE jsonb_build_object('staff_id', decider, 'name', '审批人员', 'org', '{COUNTY}') END,
       CASE WHEN is_open THEN NULL WHEN refused THEN 'refused' ELSE 'approved' END,
       NULL, '[]', '[]'
FROM {SCHEMA}.facts
"""

ROUTING_FLAGS = f"""
INSERT INTO routing.flags (case_number, org, level, reason, due_date, raised_at)
SELECT number, '{COUNTY}', flag, '历史数据', due, now() FROM {SCHEMA}.facts WHERE is_open AND flag IS NOT NULL
ON CONFLICT DO NOTHING
"""

CASE_FACTS = f"""
INSERT INTO audit.case_facts (case_number, accepting_org, item_code, kind, channel, department, "window",
    first_responder, accepted_at, promised_date, deciding_org, concluded_at)
SELECT number, village, item_code, kind, 'agent', dept, window_number, agent, accepted_at, due,
       CASE WHEN is_open THEN NULL ELSE '{COUNTY}' END, decided_at
FROM {SCHEMA}.facts
"""

# The counters the events of these cases would have moved (daiban_audit.domain.stats): acceptance
# at the village (received, handling mode agency), conclusion at the county, evaluation at the
# village; each rolled up the org path and kept per total, child unit, department, window, staff.
COUNTERS = f"""
WITH moved AS (
    SELECT day AS d, village AS org, dept, NULL::text AS win, agent AS staff, m.metric, m.value
    FROM {SCHEMA}.facts
    CROSS JOIN LATERAL (VALUES ('received', 1), ('mode_agency', 1)) AS m(metric, value)
    UNION ALL
    SELECT decided_day, '{COUNTY}', dept, window_number, decider, m.metric, m.value
    FROM {SCHEMA}.facts
    CROSS JOIN LATERAL (VALUES
        ('concluded', 1),
        ('concluded_on_time', (decided_day <= due)::int),
        ('concluded_early', (decided_day < due)::int),
        ('concluded_overdue', (decided_day > due)::int),
        ('refused', refused::int),
        ('working_days_total', ((decided_day - day) * 5) / 7),
        ('concluded_with_duration', 1)
    ) AS m(metric, value)
    WHERE NOT is_open
    UNION ALL
    SELECT decided_day, village, dept, window_number, agent, 'evaluation_' || evaluation, 1
    FROM {SCHEMA}.facts WHERE evaluation IS NOT NULL
),
grouped AS (
    SELECT d, org, dept, win, staff, metric, sum(value) AS value
    FROM moved WHERE value <> 0 GROUP BY d, org, dept, win, staff, metric
)
INSERT INTO audit.stat_counters (org, dimension, day, key, metric, value)
SELECT r.scope, k.dimension, g.d, k.key, g.metric, sum(g.value)
FROM grouped g
CROSS JOIN LATERAL (
    SELECT g.org AS scope, g.org AS child
    UNION ALL SELECT substr(g.org, 1, 9) || '000', g.org WHERE substr(g.org, 10, 3) <> '000'
    UNION ALL SELECT substr(g.org, 1, 6) || '000000', substr(g.org, 1, 9) || '000'
        WHERE substr(g.org, 7, 3) <> '000'
) AS r
CROSS JOIN LATERAL (VALUES ('total', ''), ('org', r.child), ('department', g.dept), ('window', g.win),
    ('staff', g.staff)) AS k(dimension, key)
WHERE k.dimension = 'total' OR coalesce(k.key, '') <> ''
GROUP BY r.scope, k.dimension, g.d, k.key, g.metric
ON CONFLICT (org, dimension, day, key, metric) DO UPDATE SET value = stat_counters.value + excluded.value
"""

EVALUATIONS = (
    "very_satisfied",
    "very_satisfied",
    "satisfied",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
)


async def load(suite: Suite, count: int) -> dict[str, Any]:
    """Load `count` historical cases; returns what was written and how long each step took."""
    today = today_in_shanghai()
    conn = await suite.connect()
    steps: dict[str, float] = {}
    try:
        await conn.execute("SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'")
        items = await _items(conn)
        villages = [
            r["code"]
            for r in await conn.fetch(
                "SELECT code FROM routing.org_units "
                "WHERE tier = 'village' AND code LIKE '370285%' ORDER BY code"
            )
        ]
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        await conn.execute(f"CREATE TABLE {SCHEMA}.villages (idx int PRIMARY KEY, code text)")
        await conn.copy_records_to_table("villages", schema_name=SCHEMA, records=list(enumerate(villages)))
        await conn.execute(
            f"CREATE TABLE {SCHEMA}.items (idx int PRIMARY KEY, code text, kind text, dept text, "
            "dept_name text, window_id text, window_number text, decider text, lim int, summary text)"
        )
        await conn.copy_records_to_table(
            "items",
            schema_name=SCHEMA,
            records=[
                (
                    i["idx"],
                    i["code"],
                    i["kind"],
                    i["dept"],
                    i["dept_name"],
                    i["window_id"],
                    i["window_number"],
                    i["decider"],
                    i["limit"],
                    i["summary"],
                )
                for i in items
            ],
        )
        clocks = _clocks(today, {i["limit"] for i in items})
        await conn.execute(
            f"CREATE TABLE {SCHEMA}.clocks (start_day date, lim int, due date, flag text, "
            "PRIMARY KEY (start_day, lim))"
        )
        await conn.copy_records_to_table("clocks", schema_name=SCHEMA, records=clocks)

        started = time.perf_counter()
        await conn.execute(GENERATE, count, len(villages), today, len(items))
        await conn.execute(
            f"""CREATE UNLOGGED TABLE {SCHEMA}.facts AS
            SELECT *, village || '-' || to_char(day, 'YYYYMMDD') || '-' || (9000 + seq)::text AS number,
                   'bench-agent-' || village AS agent,
                   (timezone('Asia/Shanghai', day + time '08:30')
                    + (i % 480)::int * interval '1 minute') AS accepted_at,
                   CASE WHEN decided_day IS NULL THEN NULL
                        ELSE timezone('Asia/Shanghai', decided_day + time '10:00')
                             + (i % 360)::int * interval '1 minute'
                   END AS decided_at,
                   (i % 25 = 0) AS refused,
                   CASE WHEN NOT is_open AND i % 2 = 0
                        THEN (ARRAY{list(EVALUATIONS)})[(1 + (i / 2) % {len(EVALUATIONS)})::int]
                   END AS evaluation
            FROM {SCHEMA}.cases"""
        )
        steps["generate"] = time.perf_counter() - started
        for name, sql in (
            ("routing.cases", ROUTING_CASES),
            ("routing.tasks", ROUTING_TASKS),
            ("routing.flags", ROUTING_FLAGS),
            ("audit.case_facts", CASE_FACTS),
            ("audit.stat_counters", COUNTERS),
        ):
            started = time.perf_counter()
            await conn.execute(sql)
            steps[name] = time.perf_counter() - started
            print(f"    {name}: {steps[name]:.1f} s")
        started = time.perf_counter()
        await conn.execute(
            "ANALYZE routing.cases; ANALYZE routing.tasks; ANALYZE routing.flags; "
            "ANALYZE audit.case_facts; ANALYZE audit.stat_counters"
        )
        steps["analyze"] = time.perf_counter() - started
        written = {
            "cases": count,
            "open": await conn.fetchval(f"SELECT count(*) FROM {SCHEMA}.facts WHERE is_open"),
            "flagged": await conn.fetchval(
                f"SELECT count(*) FROM {SCHEMA}.facts WHERE is_open AND flag IS NOT NULL"
            ),
            "stat_counters": await conn.fetchval("SELECT count(*) FROM audit.stat_counters"),
            "villages": len(villages),
            "days": DAYS,
        }
        await conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    finally:
        await conn.close()
    return written | {"seconds": {k: round(v, 1) for k, v in steps.items()}}
