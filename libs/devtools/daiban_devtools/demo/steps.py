"""Doing one planned step as the person who would: an HTTP call to the service that owns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from daiban_common.calendar import to_shanghai_date
from daiban_common.settings import Settings
from daiban_devtools.demo.plan import CasePlan, Step
from daiban_devtools.demo.world import DemoError, Person, World, bearer


@dataclass
class Filed:
    """What the services answered for a case: its number and query code."""

    number: str | None = None
    query_code: str | None = None
    asked: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


def materials(case: CasePlan, leave_out: set[str]) -> list[dict[str, Any]]:
    return [
        {"code": m["code"], "form": m["form"], "copies": m["copies"]}
        for m in case.item.needed
        if m["code"] not in leave_out
    ]


class Actor:
    """Runs steps against the services through `client(service)`."""

    def __init__(self, client: Any, world: World, settings: Settings, seed: int) -> None:
        self.client, self.world, self.settings, self.seed = client, world, settings, seed
        self.admin = bearer(settings, sub="demo:history", role="admin", org=world.county)
        supervisor = next(iter(world.people(world.county, "supervisor")), None)
        self.supervisor = supervisor
        self.filed: dict[int, Filed] = {}

    def _key(self, step: Step) -> dict[str, str]:
        return {"Idempotency-Key": f"history-{self.seed}-{step.case}-{step.action}-{step.at:%Y%m%d%H%M}"}

    async def _call(
        self, service: str, method: str, path: str, expect: int, headers: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        response: httpx.Response = await self.client(service).request(
            method, path, json=body, headers=headers
        )
        if response.status_code != expect:
            raise DemoError(f"{method} {path}: {response.status_code} {response.text[:400]}")
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    async def absence(self, person: Person, begin: datetime, until: datetime) -> None:
        body = {
            "on_duty": True,
            "absent_from": begin.isoformat(),
            "absent_until": until.isoformat(),
            "reason": "年休假",
        }
        await self._call("routing", "PUT", f"/v1/staff/{person.id}/duty", 200, self.admin, body)

    async def do(self, case: CasePlan, step: Step) -> None:
        filed = self.filed.setdefault(case.index, Filed())
        await getattr(self, f"_{step.action}")(case, step, filed)

    # -- intake, at the point where the citizen applied

    def _application(self, case: CasePlan, leave_out: set[str]) -> dict[str, Any]:
        return {
            "item_code": case.item.code,
            "org": case.org,
            "channel": case.channel,
            "applicant": case.applicant.as_body(),
            "materials": materials(case, leave_out),
            "green_channel": case.green,
        }

    async def _notice(self, case: CasePlan, step: Step, filed: Filed) -> None:
        missing = {m["code"] for m in case.item.needed[-2:]}
        headers = {**bearer(self.settings, case.acceptor), **self._key(step)}
        response = await self.client("intake").post(
            "/v1/applications", json=self._application(case, missing), headers=headers
        )
        if response.status_code != 422 or "notice_number" not in response.json():
            raise DemoError(f"one-time notice expected: {response.status_code} {response.text[:300]}")

    async def _accept(self, case: CasePlan, step: Step, filed: Filed) -> None:
        body = self._application(case, {step.args["deficiency"]} if "deficiency" in step.args else set())
        if "deficiency" in step.args:
            body["deficiencies"] = [{"code": step.args["deficiency"], "due_date": step.args["due"]}]
        if step.args.get("on_the_spot"):
            body["on_the_spot"] = {"outcome": "approved", "result": f"当场办结，{_result_number(case, step)}"}
        headers = {**bearer(self.settings, case.acceptor), **self._key(step)}
        out = await self._call("intake", "POST", "/v1/applications", 201, headers, body)
        filed.number, filed.query_code = out["case_number"], out["query_code"]

    async def _supply_deficiency(self, case: CasePlan, step: Step, filed: Filed) -> None:
        wanted = {step.args["code"]}
        body = {"materials": [m for m in materials(case, set()) if m["code"] in wanted]}
        headers = {**bearer(self.settings, case.acceptor), **self._key(step)}
        await self._call("intake", "POST", f"/v1/cases/{filed.number}/supplements", 201, headers, body)

    async def _supplement(self, case: CasePlan, step: Step, filed: Filed) -> None:
        wanted = {issue["material_code"] for issue in filed.asked}
        body = {"materials": [m for m in materials(case, set()) if m["code"] in wanted]}
        headers = {**bearer(self.settings, case.acceptor), **self._key(step)}
        await self._call("intake", "POST", f"/v1/cases/{filed.number}/supplements", 201, headers, body)

    async def _handover(self, case: CasePlan, step: Step, filed: Filed) -> None:
        if step.args.get("mail"):
            body: dict[str, Any] = {
                "method": "mail",
                "carrier": "中国邮政EMS",
                "tracking_number": f"1{case.index:04d}{step.at:%m%d%H%M}",
            }
        else:
            body = {
                "method": "in_person",
                "recipient_name": case.applicant.name,
                "recipient_id_number": case.applicant.id_number,
            }
        headers = {**bearer(self.settings, case.acceptor), **self._key(step)}
        await self._call("intake", "POST", f"/v1/cases/{filed.number}/handover", 200, headers, body)

    async def _evaluate(self, case: CasePlan, step: Step, filed: Filed) -> None:
        level = step.args["level"]
        comment = {
            "dissatisfied": "等待时间较长，来回问了好几次",
            "very_dissatisfied": "办理超期，没有人主动告知进度",
        }
        body = {
            "case_number": filed.number,
            "query_code": filed.query_code,
            "level": level,
            "comment": comment.get(level, "代办员热情周到，少跑腿"),
        }
        await self._call("intake", "POST", "/v1/public/evaluations", 201, {}, body)

    async def _complaint(self, case: CasePlan, step: Step, filed: Filed) -> None:
        body = {
            "target": "case",
            "case_number": filed.number,
            "query_code": filed.query_code,
            "summary": "取件时窗口无人，电话也未接通",
        }
        await self._call("intake", "POST", "/v1/complaints", 201, self._key(step), body)

    # -- routing, at the org unit that decides

    async def _tasks(self, filed: Filed) -> list[dict[str, Any]]:
        """The case's tasks at the deciding org (they do not change once created)."""
        if not filed.tasks:
            route = await self._call("routing", "GET", f"/v1/cases/{filed.number}/route", 200, self.admin)
            filed.tasks = route["tasks"]
            if not filed.tasks:
                raise DemoError(f"{filed.number} has no task yet (status {route['status']})")
        return filed.tasks

    def _worker(self, task: dict[str, Any]) -> Person:
        """Who works on the task: its assignee, or the window's A or B post if it waits in the queue."""
        window = next(w for w in self.world.windows if w.org == task["org"] and w.number == task["window"])
        for staff_id in (task["staff_id"], window.a_post, window.b_post):
            person = self.world.staff.get(staff_id or "")
            if person is not None and person.role in ("clerk", "approver"):
                return person
        raise DemoError(f"nobody at window {task['org']}/{task['window']} can decide")

    async def _on_task(self, filed: Filed, department: str | None, action: str, body: Any = None) -> None:
        tasks = await self._tasks(filed)
        task = next((t for t in tasks if t["department"] == department), tasks[0])
        headers = bearer(self.settings, self._worker(task))
        await self._call("routing", "POST", f"/v1/tasks/{task['id']}/{action}", 200, headers, body)

    async def _claim(self, case: CasePlan, step: Step, filed: Filed) -> None:
        await self._on_task(filed, None, "claim")

    async def _ask_supplement(self, case: CasePlan, step: Step, filed: Filed) -> None:
        asked = case.item.needed[0]
        filed.asked = [
            {
                "material_code": asked["code"],
                "material_name": asked["name"],
                "problem": "invalid",
                "required_form": asked["form"],
                "required_copies": asked["copies"],
                "note": "材料信息与系统登记不一致，请核对后重新提交",
            }
        ]
        await self._on_task(filed, None, "decide", {"decision": "supplement", "issues": filed.asked})

    async def _pause(self, case: CasePlan, step: Step, filed: Filed) -> None:
        reasons = {"site_survey": "需现场核实", "expert_review": "需组织专家评审", "hearing": "需举行听证"}
        body = {
            "procedure": step.args["procedure"],
            "reason": reasons.get(step.args["procedure"], "依法公示"),
            "expected_working_days": step.args["days"],
        }
        await self._on_task(filed, None, "pause", body)

    async def _resume(self, case: CasePlan, step: Step, filed: Filed) -> None:
        await self._on_task(filed, None, "resume")

    async def _extend(self, case: CasePlan, step: Step, filed: Filed) -> None:
        if self.supervisor is None:
            raise DemoError("no supervisor at the county")
        body = {"extra_working_days": step.args["days"], "reason": "涉及多方核实，经批准延长办理时限"}
        headers = {**bearer(self.settings, self.supervisor), **self._key(step)}
        await self._call("routing", "POST", f"/v1/cases/{filed.number}/extension", 200, headers, body)

    async def _decide(self, case: CasePlan, step: Step, filed: Filed) -> None:
        if step.args["refuse"]:
            body: dict[str, Any] = {
                "decision": "refuse",
                "reasons": ["经审查，申请人不符合规定的条件"],
                "legal_basis": list(case.item.legal_basis[:1]) or ["相关法律法规"],
            }
        else:
            body = {"decision": "approve", "result": f"准予办理，{_result_number(case, step)}"}
        await self._on_task(filed, step.args["department"], "decide", body)


def _result_number(case: CasePlan, step: Step) -> str:
    day = to_shanghai_date(step.at)
    return f"文号 LX{day:%Y%m%d}{case.index:04d}"
