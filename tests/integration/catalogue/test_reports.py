"""The handbook of a township (JSON and printable HTML), reform statistics, and the seed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from daiban_catalogue.models import org_units
from daiban_catalogue.seed import seed_demo_catalogue
from daiban_common import clock
from daiban_common.orgunits import apply_org_units
from daiban_contracts.directory import OrgUnitEntry, OrgUnitsPublished
from daiban_contracts.orgcodes import Tier
from tests.integration.catalogue.conftest import COUNTY, TOWNSHIP, VILLAGE
from tests.servers import RunningService

pytestmark = pytest.mark.integration


async def test_the_handbook_of_a_township_lists_what_can_be_started_there(catalogue: RunningService) -> None:
    client = catalogue.client
    response = await client.get("/v1/handbook", params={"org": TOWNSHIP})
    assert response.status_code == 200, response.text
    book = response.json()
    assert (book["org"], book["org_tier_label"]) == (TOWNSHIP, "乡镇（街道）")
    names = {item["name"] for item in book["items"]}
    assert book["item_count"] == len(names) == 26
    assert {
        "临时居民身份证核发",
        "最低生活保障审核确认",
        "企业开办（设立登记、印章刻制、发票申领、社保登记）",
    } <= names
    # Accepted only at the county hall, or only at village points: not in a township's handbook.
    assert "内地居民结婚登记" not in names and "人民调解申请" not in names
    low_income = next(i for i in book["items"] if i["name"] == "最低生活保障审核确认")
    assert low_income["where_decided"] == "乡镇（街道）镇（街道）民政办公室办理"
    assert low_income["materials"] and low_income["promised_working_days"] > 0
    assert all(item["fee_text"] for item in book["items"])

    html = await client.get("/v1/handbook", params={"org": TOWNSHIP}, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "便民服务手册" in html.text and "临时居民身份证核发" in html.text and "申请材料" in html.text
    sibling = await client.get("/v1/handbook.html", params={"org": TOWNSHIP})
    assert sibling.text == html.text
    assert html.headers["etag"] != response.headers["etag"]
    cached = await client.get(
        "/v1/handbook", params={"org": TOWNSHIP}, headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304

    village = (await client.get("/v1/handbook", params={"org": VILLAGE})).json()
    assert "人民调解申请" in {item["name"] for item in village["items"]}


async def test_the_handbook_is_titled_with_the_units_name_from_the_directory(
    catalogue: RunningService,
) -> None:
    client = catalogue.client
    book = (await client.get("/v1/handbook", params={"org": TOWNSHIP})).json()
    assert book["org_name"] == "姜山镇"
    assert book["title"] == f"姜山镇便民服务手册（乡镇（街道），区划代码{TOWNSHIP}）"
    page = await client.get("/v1/handbook.html", params={"org": TOWNSHIP})
    assert "<h1>姜山镇便民服务手册（" in page.text
    # A unit the directory no longer lists keeps its handbook, titled by its code alone.
    units = (OrgUnitEntry(code=COUNTY, name="莱西市", tier=Tier.county),)
    published = OrgUnitsPublished(county=COUNTY, units=units, published_at=clock.now())
    async with catalogue.runtime.uow() as uow:
        await apply_org_units(uow, org_units, published)
        await uow.commit()
    unnamed = (await client.get("/v1/handbook", params={"org": TOWNSHIP})).json()
    assert unnamed["org_name"] is None
    assert unnamed["title"] == f"便民服务手册（乡镇（街道），区划代码{TOWNSHIP}）"


async def test_reform_stats_compare_the_catalogue_with_its_baseline(catalogue: RunningService) -> None:
    stats = (await catalogue.client.get("/v1/reform-stats", params={"from": "2019-01-01"})).json()
    assert stats["item_count"] == stats["baseline_item_count"] == 41
    assert stats["baseline_promised_working_days_total"] > stats["promised_working_days_total"] > 0
    assert stats["promised_reduction_percent"] > 0 and stats["materials_cut"] > 0
    assert stats["immediate_item_count"] > stats["baseline_immediate_item_count"]
    assert stats["delegated_item_count"] == len(stats["delegations"]) == 2
    assert stats["summary"].startswith("在办41项事项")
    assert f"总压缩率为{stats['promised_reduction_percent']:.2f}%" in stats["summary"]
    # The same day on both sides: nothing was compressed against itself.
    same = (
        await catalogue.client.get("/v1/reform-stats", params={"from": "2024-06-01", "to": "2024-06-01"})
    ).json()
    assert same["promised_reduction_working_days"] == 0 and same["delegations"] == []


async def test_seeding_twice_adds_nothing_and_every_version_went_to_the_outbox(
    catalogue: RunningService,
) -> None:
    runtime = catalogue.runtime
    await seed_demo_catalogue(runtime)
    outbox = runtime.tables.outbox
    async with runtime.engine.connect() as conn:
        events = await conn.scalar(select(func.count()).select_from(outbox))
        versions = await conn.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.type.like("%item_published%"))
        )
    assert events == versions == 56


async def test_openapi_documents_every_route(catalogue: RunningService) -> None:
    spec = (await catalogue.client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    assert {
        "/v1/items",
        "/v1/items/{item_code}",
        "/v1/items/{item_code}/publish",
        "/v1/handbook",
        "/v1/reform-stats",
    } <= set(paths)
    assert "422" in paths["/v1/items"]["get"]["responses"]
    assert all(op.get("summary") for path in paths.values() for op in path.values())
