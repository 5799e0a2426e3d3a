"""`daiban demo`: one case from a village point to the township and back, against the running suite.

Everything goes over HTTP to the services `daiban run` started (URLs from the settings), with
tokens minted from the development secret under the var dir for people of the demo directory.
Each step prints what happened, in Chinese for the people-facing lines; a step that does not
happen within the timeout stops the demo with exit status 1.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import httpx

from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import OrgCode
from daiban_devtools.demo.people import Applicant, applicant
from daiban_devtools.demo.world import DemoError, Person, bearer

T = TypeVar("T")


class LiveDemo:
    def __init__(
        self, settings: Settings, clients: dict[str, httpx.AsyncClient], village: str, timeout: float
    ):
        self.settings, self.clients, self.timeout = settings, clients, timeout
        self.village = OrgCode.parse(village)
        township = self.village.township
        if township is None or self.village.tier.value != "village":
            raise DemoError(f"{village} is not a village code")
        self.township, self.county = township, self.village.county
        self.admin = bearer(settings, sub="demo:live", role="admin", org=self.county.value, name="演示管理员")
        self.auditor = bearer(
            settings, sub="demo:auditor", role="auditor", org=self.county.value, name="演示审计"
        )
        self.names: dict[str, str] = {}
        self.step = 0
        self.applicant: Applicant | None = None

    def say(self, text: str) -> None:
        self.step += 1
        print(f"[{self.step:>2}] {text}", flush=True)

    async def call(self, service: str, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        response = await self.clients[service].request(method, path, **kw)
        if response.status_code != expect:
            raise DemoError(f"{method} {service}{path} → {response.status_code}: {response.text[:300]}")
        return response.json()

    async def until(self, what: str, check: Callable[[], Awaitable[T | None]]) -> T:
        """Poll until `check` gives something (events travel between services asynchronously)."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            found = await check()
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise DemoError(f"等待{what}超时（{self.timeout:.0f}秒）")
            await asyncio.sleep(0.3)

    async def name(self, org: str) -> str:
        if org not in self.names:
            body = await self.call("routing", "GET", f"/v1/orgs/{org}", headers=self.admin)
            self.names[org] = body["name"]
        return self.names[org]

    async def person(self, staff_id: str) -> Person:
        s = await self.call("routing", "GET", f"/v1/staff/{staff_id}", headers=self.admin)
        return Person(s["staff_id"], s["name"], s["role"], s["org"], tuple(s["windows"]))

    async def figures(self) -> dict[str, int]:
        body = await self.call(
            "audit", "GET", "/v1/stats", params={"org": self.county.value}, headers=self.auditor
        )
        totals = body["totals"]
        return {
            "received": totals["received"],
            "concluded": totals["concluded"],
            "evaluations": sum(totals["evaluations"].values()),
        }

    async def choose(self) -> tuple[Person, dict[str, Any]]:
        """The village agent, and a township item the township's window can take (A post set)."""
        agents = await self.call(
            "routing",
            "GET",
            "/v1/staff",
            params={"org": self.village.value, "role": "agent"},
            headers=self.admin,
        )
        mine = [s for s in agents["items"] if s["org"] == self.village.value]
        if not mine:
            raise DemoError(f"{self.village.value}没有代办员")
        agent = await self.person(sorted(s["staff_id"] for s in mine)[0])
        params = {
            "acceptable_at": self.village.value,
            "handling_level": "township",
            "kind": "promised",
            "limit": 100,
        }
        items = (await self.call("catalogue", "GET", "/v1/items", params=params, headers=self.admin))["items"]
        windows = (
            await self.call(
                "routing", "GET", "/v1/windows", params={"org": self.township.value}, headers=self.admin
            )
        )["items"]
        served = {
            d for w in windows if w["org"] == self.township.value and w["a_post"] for d in w["departments"]
        }
        fit = [i for i in items if i["departments"]["lead"] in served and not i["departments"].get("others")]
        if not fit:
            raise DemoError(f"{self.township.value}没有可办理的镇级承诺件")
        # The quickest one makes the plainest demonstration (临时救助 in the demo catalogue).
        return agent, min(fit, key=lambda i: (i["promised_working_days"], i["item_code"]))

    async def run(self) -> None:
        agent, item = await self.choose()
        village, township = await self.name(self.village.value), await self.name(self.township.value)
        self.say(
            f"事项：{item['name']}（{item['kind_label']}，由{item['handling_level_label']}办理，"
            f"承诺{item['promised_working_days']}个工作日）；受理点：{village}，代办员{agent.name}"
        )
        before = await self.figures()
        self.say(
            f"统计（演示前，全市今日）：受理{before['received']}件，办结{before['concluded']}件，评价{before['evaluations']}件"
        )
        number, code = await self.accept(agent, item)
        route = await self.until("办件上报到镇", lambda: self.route_with_task(number))
        up = route["hops"][0]
        self.say(
            f"流转：{await self.name(up['from_org'])} → {await self.name(up['to_org'])}"
            f"（第{up['hop']}次上报，{'已接收' if up['received_at'] else '待接收'}）"
        )
        task = route["tasks"][0]
        worker = await self.person(task["staff_id"])
        post = {"a": "A岗", "b": "B岗"}.get(task["post"], "窗口队列")
        self.say(
            f"分派：{task['department_name']}{task['window']}号窗口，{post} {worker.name}，"
            f"办理期限{task['due_date']}"
        )
        result = f"准予办理，{item['name']}审核通过，文号 LX-DEMO-{number[-4:]}"
        await self.call(
            "routing",
            "POST",
            f"/v1/tasks/{task['id']}/decide",
            json={"decision": "approve", "result": result},
            headers=bearer(self.settings, worker),
        )
        self.say(f"审批：{worker.name}（{post}）作出决定：{result}")
        case = await self.until("办理结果回到村代办点", lambda: self.case_ready(number, agent))
        self.say(f"回传：办理结果已从{township}送回{village}，状态“{case['status_label']}”")
        await self.handover(number, agent)
        await self.call(
            "intake",
            "POST",
            "/v1/public/evaluations",
            json={
                "case_number": number,
                "query_code": code,
                "level": "very_satisfied",
                "comment": "代办员上门服务，一次也没跑",
            },
            expect=201,
        )
        self.say("评价：申请人通过查询码评价“非常满意”")
        await self.progress(number, code)
        await self.audit(number)
        after = await self.until("统计更新", lambda: self.moved(before))
        grown = {k: after[k] - before[k] for k in after}
        self.say(
            f"统计（演示后，全市今日）：受理{after['received']}件（+{grown['received']}），"
            f"办结{after['concluded']}件（+{grown['concluded']}），"
            f"评价{after['evaluations']}件（+{grown['evaluations']}）"
        )

    async def accept(self, agent: Person, item: dict[str, Any]) -> tuple[str, str]:
        person = applicant(random.Random(), today=date.today(), place=await self.name(self.village.value))
        body = {
            "item_code": item["item_code"],
            "org": self.village.value,
            "channel": "agent",
            "applicant": person.as_body(),
            "materials": [
                {"code": m["code"], "form": m["form"], "copies": m["copies"]}
                for m in item["materials"]
                if m["required"] and m.get("source") != "government"
            ],
        }
        headers = {**bearer(self.settings, agent), "Idempotency-Key": f"demo-{uuid.uuid4()}"}
        out = await self.call("intake", "POST", "/v1/applications", expect=201, json=body, headers=headers)
        self.applicant = person
        self.say(
            f"受理：{agent.name}为{person.name}受理申请，办件编号{out['case_number']}，查询码{out['query_code']}，"
            f"承诺办结日期{out['promised_date']}，首问责任人{out['first_responder']['name']}"
        )
        return str(out["case_number"]), str(out["query_code"])

    async def route_with_task(self, number: str) -> dict[str, Any] | None:
        response = await self.clients["routing"].get(f"/v1/cases/{number}/route", headers=self.admin)
        if response.status_code != 200:
            return None
        route: dict[str, Any] = response.json()
        return route if route["tasks"] and route["hops"] else None

    async def case_ready(self, number: str, agent: Person) -> dict[str, Any] | None:
        case: dict[str, Any] = await self.call(
            "intake", "GET", f"/v1/cases/{number}", headers=bearer(self.settings, agent)
        )
        return case if case["status"] == "ready_for_handover" else None

    async def handover(self, number: str, agent: Person) -> None:
        assert self.applicant is not None
        body = {
            "method": "in_person",
            "recipient_name": self.applicant.name,
            "recipient_id_number": self.applicant.id_number,
        }
        headers = {**bearer(self.settings, agent), "Idempotency-Key": f"demo-{uuid.uuid4()}"}
        await self.call("intake", "POST", f"/v1/cases/{number}/handover", json=body, headers=headers)
        self.say(f"送达：{agent.name}核验身份后当面送达{self.applicant.name}")

    async def progress(self, number: str, code: str) -> None:
        body = await self.call("intake", "GET", f"/v1/public/progress/{number}", params={"query_code": code})
        stages = " → ".join(s["label"] for s in body["stages"])
        self.say(f"公开进度（凭查询码，无个人信息）：{stages}；当前“{body['status_label']}”")

    async def audit(self, number: str) -> None:
        async def logged() -> list[dict[str, Any]] | None:
            body = await self.call(
                "audit",
                "GET",
                "/v1/audit/entries",
                params={"subject": number, "limit": 100},
                headers=self.auditor,
            )
            items: list[dict[str, Any]] = body["items"]
            return items if any(e["type"] == "daiban.case.evaluated.v1" for e in items) else None

        entries = await self.until("审计日志记录本办件", logged)
        verdict = await self.call("audit", "GET", "/v1/audit/verify", headers=self.auditor)
        if not verdict["ok"]:
            raise DemoError(f"审计链校验失败：{verdict['detail']}")
        self.say(f"审计：本办件{len(entries)}条日志，全链{verdict['checked']}条校验通过")

    async def moved(self, before: dict[str, int]) -> dict[str, int] | None:
        now = await self.figures()
        return now if all(now[k] > before[k] for k in before) else None


async def run_demo(settings: Settings, *, village: str = "370285101294", wait: float = 60.0) -> int:
    urls = {
        spec.name: f"http://{settings.host}:{settings.service_port(spec)}"
        for spec in discover_services().values()
    }
    clients = {name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in urls.items()}
    print(f"daiban 演示：一件镇级事项从村代办点上报到镇、办结后送回村（{urls['intake']} 等）")
    demo: LiveDemo | None = None
    try:
        demo = LiveDemo(settings, clients, village, wait)
        await demo.run()
    except (DemoError, httpx.HTTPError) as exc:
        step = f"第{demo.step + 1}步" if demo is not None else "准备"
        print(f"演示失败（{step}）：{exc}")
        return 1
    finally:
        for client in clients.values():
            await client.aclose()
    print(f"演示完成：{demo.step}步全部成功。")
    return 0
