"""Input routing must refuse with a 422 naming the field, never take silently or answer 500.

NUL (and lone surrogates) in filters, path ids and bodies were 500s: the text reached PostgreSQL,
which can neither store nor compare it. A cursor from another list was taken silently. The
requests only read or are refused, so one seeded routing service serves the whole module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.routing.helpers import COUNTY, JIANGSHAN, bearer, keyed, seeded_routing
from tests.servers import RunningService, Servers, new_network

pytestmark = pytest.mark.integration

UNSTORABLE = "不能包含空字符或无效的Unicode字符"
Routing = tuple[RunningService, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
async def routing(migrated: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Routing]:
    network = new_network(migrated, tmp_path_factory.mktemp("unstorable"))
    async with seeded_routing(network) as (settings, service):
        # Window staff for tasks, a supervisor for everything else.
        yield (
            service,
            {
                "clerk": bearer(settings, "county-clerk", "clerk", COUNTY),
                "supervisor": bearer(settings, "county-supervisor", "supervisor", COUNTY),
            },
        )


def _token(tokens: dict[str, dict[str, str]], url: str) -> dict[str, str]:
    return tokens["clerk" if url.startswith("/v1/tasks/") else "supervisor"]


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}, response.text


READS = [
    ("GET", "/v1/departments?code=a%00b", "code"),
    ("GET", "/v1/windows?department=a%00b", "department"),
    ("GET", "/v1/staff?window=a%00b", "window"),
    ("GET", "/v1/tasks?staff_id=a%00b", "staff_id"),
    ("GET", "/v1/tasks?window=a%00b", "window"),
    ("GET", "/v1/orgs/3702850%00", "code"),
    ("GET", "/v1/departments/a%00b", "id"),
    ("GET", "/v1/windows/a%00b", "id"),
    ("GET", "/v1/staff/a%00b", "staff_id"),
    ("DELETE", "/v1/departments/a%00b", "id"),
    ("DELETE", "/v1/windows/a%00b", "id"),
    ("DELETE", "/v1/staff/a%00b", "staff_id"),
    ("GET", "/v1/cases/a%00b/route", "case_number"),
    ("POST", "/v1/tasks/a%00b/claim", "task_id"),
    ("POST", "/v1/tasks/a%00b/resume", "task_id"),
]


@pytest.mark.parametrize(("method", "url", "field"), READS, ids=[f"{m} {u}" for m, u, _ in READS])
async def test_nul_in_filters_and_path_ids(routing: Routing, method: str, url: str, field: str) -> None:
    service, tokens = routing
    response = await service.client.request(method, url, headers=_token(tokens, url))
    refused(response, field)
    assert {e["message"] for e in response.json()["errors"]} == {UNSTORABLE}


WINDOW = {"org": COUNTY, "number": "98", "name": "窗口", "departments": ["county.civil_affairs"]}
STAFF = {"staff_id": "nul-test", "name": "张三", "role": "clerk", "org": COUNTY, "windows": []}
POINT = {"name": "便民服务中心", "address": "某路1号", "phone": "0532-1", "opening_hours": "9-17"}
BODIES = [
    ("POST", "/v1/departments", {"org": COUNTY, "code": "county.nul", "name": "民\x00政"}, "name"),
    ("PUT", "/v1/departments/any", {"name": "民\x00政"}, "name"),
    ("POST", "/v1/staff", {**STAFF, "name": "张\x00"}, "name"),
    ("POST", "/v1/staff", {**STAFF, "windows": ["0\x001"]}, "windows[0]"),
    ("PUT", "/v1/staff/county-clerk", {"name": "张\x00", "role": "clerk"}, "name"),
    ("PUT", "/v1/staff/county-clerk/duty", {"on_duty": False, "reason": "休\x00假"}, "reason"),
    ("PUT", f"/v1/orgs/{JIANGSHAN}/service-point", {**POINT, "name": "中\x00心"}, "name"),
    ("PUT", f"/v1/orgs/{JIANGSHAN}/service-point", {**POINT, "address": "\ud800"}, "address"),
    ("POST", "/v1/windows", {**WINDOW, "departments": ["county.civil\x00"]}, "departments[0]"),
    ("POST", "/v1/windows", {**WINDOW, "name": "窗\x00口"}, "name"),
    ("POST", "/v1/windows", {**WINDOW, "a_post": "a\x00"}, "a_post"),
    ("PUT", "/v1/windows/any", {**WINDOW, "departments": ["x\x00"]}, "departments[0]"),
    ("POST", "/v1/tasks/any/decide", {"decision": "refuse", "reasons": ["\x00"]}, "reasons[0]"),
    ("POST", "/v1/cases/any/extension", {"extra_working_days": 1, "reason": "\x00"}, "reason"),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "field"), BODIES, ids=[f"{m} {u} {f}" for m, u, _, f in BODIES]
)
async def test_unstorable_text_in_bodies(
    routing: Routing, method: str, url: str, body: dict[str, Any], field: str
) -> None:
    service, tokens = routing
    # ASCII JSON writes a lone surrogate as the escape `\ud800`, as a client would send it.
    response = await service.client.request(
        method,
        url,
        content=json.dumps(body),
        headers={**keyed(_token(tokens, url)), "Content-Type": "application/json"},
    )
    refused(response, field)


def test_schema_tells_clients_nul_is_refused(routing: Routing) -> None:
    document = routing[0].app.openapi()
    parameters = {p["name"]: p for p in document["paths"]["/v1/departments"]["get"]["parameters"]}
    assert parameters["code"]["schema"]["anyOf"][0]["pattern"] == "^[^\\u0000]*$"
    name = document["components"]["schemas"]["DepartmentIn"]["properties"]["name"]
    assert name["pattern"] == "^[^\\u0000]*$" and name["maxLength"] == 100


CR_ONLY = [
    ("departments", "org,code,name\r{org},county.cr_test,换行测试部门\r"),
    ("staff", "staff_id,name,role,org,windows\rcr-test,换行测试,clerk,{org},\r"),
    ("windows", "org,number,name,departments,a_post,b_post\r{org},97,换行测试窗口,county.civil_affairs,,\r"),
]


@pytest.mark.parametrize(("kind", "csv"), CR_ONLY, ids=[k for k, _ in CR_ONLY])
async def test_csv_with_bare_cr_line_ends_imports(routing: Routing, kind: str, csv: str) -> None:
    """Excel for Mac still writes a bare CR between lines; that was a 500."""
    service, tokens = routing
    supervisor = tokens["supervisor"]
    response = await service.client.post(
        f"/v1/{kind}/import",
        content=csv.format(org=COUNTY).encode(),
        headers={**supervisor, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] + response.json()["updated"] + response.json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("kind", "content", "field"),
    [
        ("departments", "org,code,name\n{org},county.nul,民\x00政\n".encode(), "rows[2].name"),
        ("staff", "staff_id,name,role,org,windows\nn1,张\x00,clerk,{org},\n".encode(), "rows[2].name"),
        (
            "windows",
            "org,number,name,departments,a_post,b_post\n{org},96,窗口,x\x00,,\n".encode(),
            "rows[2].departments[0]",
        ),
        ("departments", b"org,code,name\n{org},county.x,\xff\xfe\n", "body"),
        ("departments", b"org,code,name\n{org},county.x," + b"x" * 140_000 + b"\n", "rows[2]"),
    ],
    ids=["nul-department", "nul-staff", "nul-window", "undecodable", "over-long-cell"],
)
async def test_bad_csv_bytes_are_422(routing: Routing, kind: str, content: bytes, field: str) -> None:
    service, tokens = routing
    supervisor = tokens["supervisor"]
    response = await service.client.post(
        f"/v1/{kind}/import",
        content=content.replace(b"{org}", COUNTY.encode()),
        headers={**supervisor, "Content-Type": "text/csv"},
    )
    refused(response, field)


@pytest.mark.parametrize(
    ("issuer", "taker"),
    [
        ("/v1/orgs", "/v1/supervision/flags"),
        ("/v1/staff", "/v1/orgs"),
        ("/v1/orgs", "/v1/departments"),
        ("/v1/departments", "/v1/windows"),
    ],
)
async def test_a_cursor_from_another_list_is_422(routing: Routing, issuer: str, taker: str) -> None:
    service, tokens = routing
    supervisor = tokens["supervisor"]
    issued = (await service.client.get(issuer, params={"limit": 1}, headers=supervisor)).json()
    cursor = issued["next_cursor"]
    assert cursor is not None
    # The issuing list takes it: the next page starts after the first.
    own = await service.client.get(issuer, params={"limit": 1, "cursor": cursor}, headers=supervisor)
    assert own.status_code == 200 and own.json()["items"] != issued["items"]
    response = await service.client.get(taker, params={"cursor": cursor}, headers=supervisor)
    refused(response, "cursor")


async def test_a_renamed_filter_is_refused_not_ignored(routing: Routing) -> None:
    """`?staff=` (staff_id since issue 18) must not quietly list every task of the subtree."""
    service, tokens = routing
    response = await service.client.get("/v1/tasks?staff=js-tv-a", headers=_token(tokens, "/v1/tasks"))
    refused(response, "staff")
