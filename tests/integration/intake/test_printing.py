"""What people read shows units by name; printable pages open from a signed link in a plain browser
tab; the public progress is also a kiosk page with nothing personal on it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from daiban_common import clock
from daiban_common.auth import Role
from daiban_intake.domain.links import LINK_TTL_SECONDS, LinkSigner, link_key
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    TOWNSHIP,
    VILLAGE,
    application,
    bearer,
    keyed,
)

pytestmark = pytest.mark.integration

VILLAGE_NAME = "垛埠社区村村民委员会"
TOWNSHIP_NAME = "姜山镇"
PROBLEM = "application/problem+json"


async def _accept(intake: Intake, **overrides: Any) -> dict[str, Any]:
    # A township clerk accepting for the village: two units, two names.
    clerk = bearer(intake.settings, Role.clerk, TOWNSHIP, name="张窗口")
    response = await intake.client.post(
        "/v1/applications", json=application(**overrides), headers=keyed(clerk)
    )
    assert response.status_code in (201, 422), response.text
    body: dict[str, Any] = response.json()
    return body


async def test_receipts_notices_and_progress_name_every_unit(intake: Intake) -> None:
    clerk = bearer(intake.settings, Role.clerk, TOWNSHIP)
    accepted = await _accept(intake)
    number, code = accepted["case_number"], accepted["query_code"]
    receipt = accepted["receipt"]
    assert (receipt["accepting_org"], receipt["accepting_org_name"]) == (VILLAGE, VILLAGE_NAME)
    assert (receipt["first_responder"]["org"], receipt["first_responder"]["org_name"]) == (
        TOWNSHIP,
        TOWNSHIP_NAME,
    )
    assert accepted["first_responder"]["org_name"] == TOWNSHIP_NAME

    read = (await intake.client.get(f"/v1/cases/{number}/receipt", headers=clerk)).json()
    assert read["accepting_org_name"] == VILLAGE_NAME and read["first_responder"]["org_name"] == TOWNSHIP_NAME
    page = await intake.client.get(f"/v1/cases/{number}/receipt.html", headers=clerk)
    assert f"{VILLAGE_NAME}（{VILLAGE}）" in page.text and f"（{TOWNSHIP_NAME}）" in page.text

    case = (await intake.client.get(f"/v1/cases/{number}", headers=clerk)).json()
    assert case["org_name"] == case["holding_org_name"] == VILLAGE_NAME
    assert [s["org_name"] for s in case["stages"]] == [VILLAGE_NAME]

    progress = (await intake.client.get(f"/v1/public/progress/{number}", params={"query_code": code})).json()
    assert progress["accepting_org"] == progress["holding_org"] == VILLAGE
    assert progress["accepting_org_name"] == progress["holding_org_name"] == VILLAGE_NAME
    assert [(s["org"], s["org_name"]) for s in progress["stages"]] == [(VILLAGE, VILLAGE_NAME)]

    notice = await _accept(intake, materials=[{"code": "M01", "form": "original", "copies": 1}])
    assert notice["notice"]["org_name"] == VILLAGE_NAME
    assert notice["notice"]["issued_by"]["org_name"] == TOWNSHIP_NAME
    kept = (await intake.client.get(f"/v1/notices/{notice['notice_number']}", headers=clerk)).json()
    assert kept["org_name"] == VILLAGE_NAME and kept["issued_by"]["org_name"] == TOWNSHIP_NAME
    printed = await intake.client.get(f"/v1/notices/{notice['notice_number']}.html", headers=clerk)
    assert f"{VILLAGE_NAME}（{VILLAGE}）" in printed.text


def _signer(intake: Intake) -> LinkSigner:
    return LinkSigner(link_key(intake.settings.resolved_jwt_secret()))


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_signed_links_open_one_page_for_a_quarter_of_an_hour_without_a_token(intake: Intake) -> None:
    accepted = await _accept(intake)
    notice = await _accept(intake, materials=[])
    receipt_url, notice_url = accepted["receipt_url"], notice["notice_url"]
    assert urlsplit(receipt_url).path == f"/v1/cases/{accepted['case_number']}/receipt.html"
    assert urlsplit(notice_url).path == f"/v1/notices/{notice['notice_number']}.html"
    assert _now() < int(_query(receipt_url)["expires"]) <= _now() + LINK_TTL_SECONDS

    # A plain browser tab: no Authorization header.
    for url, title in ((receipt_url, "受理回执"), (notice_url, "一次性告知书")):
        page = await intake.client.get(url)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html") and title in page.text

    async def refused(url: str, field: str) -> None:
        response = await intake.client.get(url)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["type"] == "/problems/print-link-refused"
        assert [e["field"] for e in problem["errors"]] == [field] and "打印链接" in problem["detail"]

    receipt_path = urlsplit(receipt_url).path
    signed = _query(receipt_url)
    # Tampered: the signature of another expiry, or a changed signature.
    await refused(f"{receipt_path}?expires={int(signed['expires']) + 60}&sig={signed['sig']}", "sig")
    flipped = signed["sig"][:-1] + ("0" if signed["sig"][-1] != "0" else "1")
    await refused(f"{receipt_path}?expires={signed['expires']}&sig={flipped}", "sig")
    # Another path: the notice's link on the receipt, the receipt's link on another case.
    await refused(f"{receipt_path}?{urlsplit(notice_url).query}", "sig")
    other = await _accept(intake)
    await refused(f"{urlsplit(other['receipt_url']).path}?{urlsplit(receipt_url).query}", "sig")
    # Expired: signed by the node's own key, a quarter of an hour and a second ago.
    stale = _signer(intake).sign(receipt_path, now=_now() - LINK_TTL_SECONDS - 1)
    await refused(stale, "expires")
    await refused(f"{receipt_path}?sig={signed['sig']}", "expires")

    # Neither a token nor a link: still 401. A token alone still opens it, a token with a bad
    # link too (the token is who asks).
    assert (await intake.client.get(receipt_path)).status_code == 401
    clerk = bearer(intake.settings, Role.clerk, TOWNSHIP)
    assert (await intake.client.get(receipt_path, headers=clerk)).status_code == 200
    with_bad_link = await intake.client.get(f"{receipt_path}?expires=1&sig=00", headers=clerk)
    assert with_bad_link.status_code == 200
    # A token still scopes what it sees, link or not.
    outsider = bearer(intake.settings, Role.clerk, "370285102000")
    assert (await intake.client.get(receipt_url, headers=outsider)).status_code == 404


def _now() -> float:
    return clock.now().timestamp()


async def test_public_progress_kiosk_page_names_units_and_nothing_personal(intake: Intake) -> None:
    accepted = await _accept(intake)
    number, code = accepted["case_number"], accepted["query_code"]

    page = await intake.client.get(
        f"/v1/public/progress/{number}", params={"query_code": code}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "办理进度" in text and number in text and "已受理" in text
    assert f"{VILLAGE_NAME}（{VILLAGE}）" in text
    for personal in (APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE, "张窗口", "莱西市水集街道某村12号", code):
        assert personal not in text

    # JSON stays the default answer; a wrong code is the same 404 problem for the page.
    as_json = await intake.client.get(f"/v1/public/progress/{number}", params={"query_code": code})
    assert as_json.headers["content-type"].startswith("application/json")
    wrong = await intake.client.get(
        f"/v1/public/progress/{number}", params={"query_code": "WRONG234"}, headers={"Accept": "text/html"}
    )
    assert wrong.status_code == 404 and wrong.headers["content-type"].startswith(PROBLEM)
