"""Item search in SQL: Chinese substrings, pinyin, initials, keywords, filters, pages, ETags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.catalogue.conftest import TOWNSHIP, VILLAGE
from tests.servers import RunningService

pytestmark = pytest.mark.integration


async def names(catalogue: RunningService, **params: Any) -> set[str]:
    response = await catalogue.client.get("/v1/items", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["items"]}


async def test_q_matches_chinese_pinyin_initials_and_keywords(catalogue: RunningService) -> None:
    id_cards = {"临时居民身份证核发", "居民身份证换领（有效期满）"}
    assert await names(catalogue, q="身份证") == id_cards
    assert await names(catalogue, q="sfz") == id_cards
    assert await names(catalogue, q="SFZ") == id_cards  # case and full width do not matter
    assert await names(catalogue, q="ｓｆｚ") == id_cards
    assert await names(catalogue, q="shenfenzheng") == id_cards
    assert await names(catalogue, q="结婚") == {"内地居民结婚登记"}
    # A keyword that is not in the name: 低保 finds 最低生活保障审核确认.
    assert await names(catalogue, q="低保") == {"最低生活保障审核确认"}
    assert await names(catalogue, q="残疾 证") == {"残疾人证核发"}  # whitespace is dropped
    assert await names(catalogue, q="%") == set()  # LIKE wildcards are literal
    assert await names(catalogue, q="不存在的事项") == set()


async def test_filters_combine(catalogue: RunningService) -> None:
    immediate = await names(catalogue, kind="immediate")
    assert "内地居民结婚登记" in immediate and "最低生活保障审核确认" not in immediate
    assert await names(catalogue, handling_level="above_county") == {
        "设置医疗机构审批（二级及以上医院）",
        "农用地转用审批",
        "烈士评定",
    }
    assert await names(catalogue, type="administrative_reward") == {"食品安全违法行为举报奖励"}
    assert await names(catalogue, department="township.police_station", online="false") == {
        "临时居民身份证核发",
        "居民身份证换领（有效期满）",
        "户口迁移（投靠类迁入）",
    }
    # At a village point: items a village accepts, e.g. 低保 yes, marriage registration no.
    at_village = await names(catalogue, acceptable_at=VILLAGE)
    assert "最低生活保障审核确认" in at_village and "人民调解申请" in at_village
    assert "内地居民结婚登记" not in at_village and "临时居民身份证核发" not in at_village
    at_township = await names(catalogue, acceptable_at=TOWNSHIP, q="sfz")
    assert at_township == {"临时居民身份证核发", "居民身份证换领（有效期满）"}
    # Another county's township accepts nothing from this catalogue.
    assert await names(catalogue, acceptable_at="370283101000") == set()


async def test_pages_follow_the_cursor_to_the_end(catalogue: RunningService) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 15}
    while True:
        page = (await catalogue.client.get("/v1/items", params=params)).json()
        assert page["total"] == 41
        seen.extend(item["item_code"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == 41 == len(set(seen))
    assert seen == sorted(seen)


async def test_labels_come_with_enum_values(catalogue: RunningService) -> None:
    item = (await catalogue.client.get("/v1/items", params={"q": "结婚"})).json()["items"][0]
    assert (item["kind"], item["kind_label"]) == ("immediate", "即办件")
    assert item["type_label"] == "行政确认"
    assert item["handling_level_label"] == "县（市、区）"
    assert item["department_names"] == {"county.civil_affairs": "莱西市民政局"}
    assert item["materials"][0]["form_label"] == "原件"
    assert item["fee_text"] == "免费"
    assert item["where_decided"] == "县（市、区）莱西市民政局办理"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": "WyJceDAwIl0"}, "cursor"),  # a cursor of another list (["\x00"])
        ({"kind": "urgent"}, "kind"),
        ({"acceptable_at": "3702851010"}, "acceptable_at"),
        ({"acceptable_at": "990285101000"}, "acceptable_at"),
        ({"department": "Civil Affairs"}, "department"),
        ({"online": "maybe"}, "online"),
        ({"q": "x" * 101}, "q"),
        ({"q": "身份\x00证"}, "q"),
        ({"updated_since": "2024-01-01T00:00:00"}, "updated_since"),
        ({"updated_since": "yesterday"}, "updated_since"),
    ],
)
async def test_bad_list_parameters_are_422_naming_the_field(
    catalogue: RunningService, params: dict[str, Any], field: str
) -> None:
    response = await catalogue.client.get("/v1/items", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_reads_carry_an_etag_and_answer_304(catalogue: RunningService) -> None:
    client = catalogue.client
    for path in ("/v1/items?q=sfz", "/v1/items/QR-00101-001-370285000000-01"):
        first = await client.get(path)
        etag = first.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert (await client.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
