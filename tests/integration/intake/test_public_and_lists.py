"""Public progress reveals nothing personal; staff lists and reads are scoped to their subtree."""

from __future__ import annotations

import pytest

from daiban_common.auth import Role
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    application,
    bearer,
    keyed,
)

pytestmark = pytest.mark.integration


async def test_public_progress_shows_stages_and_dates_but_nothing_personal(intake: Intake) -> None:
    accepted = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings, name="李代办"))
    )
    number, code = accepted.json()["case_number"], accepted.json()["query_code"]

    progress = await intake.client.get(f"/v1/public/progress/{number}", params={"query_code": code.lower()})
    assert progress.status_code == 200, progress.text
    body = progress.json()
    assert body["status"] == "accepted" and body["status_label"] == "已受理"
    assert body["holding_org"] == "370285101295" and body["holding_org_tier_label"] == "村（社区）"
    assert body["promised_date"] == accepted.json()["promised_date"]
    assert [s["label"] for s in body["stages"]] == ["受理"]
    for personal in (APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE, "李代办", "水集街道某村", code):
        assert personal not in progress.text

    wrong = await intake.client.get(f"/v1/public/progress/{number}", params={"query_code": "WRONG234"})
    unknown = await intake.client.get(
        "/v1/public/progress/370285101295-20200101-0001", params={"query_code": code}
    )
    garbage = await intake.client.get("/v1/public/progress/nonsense", params={"query_code": code})
    assert wrong.status_code == unknown.status_code == garbage.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"] == garbage.json()["detail"]

    receipt = await intake.client.get(
        f"/v1/cases/{number}/receipt", headers={**bearer(intake.settings), "Accept": "text/html"}
    )
    assert receipt.headers["content-type"].startswith("text/html")
    assert "受理回执" in receipt.text and code in receipt.text and APPLICANT_NAME in receipt.text


async def test_staff_see_only_their_subtree_and_lists_are_paginated(intake: Intake) -> None:
    village_agent = bearer(intake.settings)
    numbers = []
    for _ in range(3):
        response = await intake.client.post(
            "/v1/applications", json=application(), headers=keyed(village_agent)
        )
        numbers.append(response.json()["case_number"])

    township = bearer(intake.settings, Role.supervisor, TOWNSHIP)
    first = await intake.client.get("/v1/cases", params={"limit": 2}, headers=township)
    assert first.status_code == 200
    assert [c["case_number"] for c in first.json()["items"]] == numbers[::-1][:2]
    # Lists name the units beside their codes, from intake's replica of the directory.
    listed = first.json()["items"][0]
    assert listed["org_name"] and listed["holding_org_name"] == listed["org_name"]
    rest = await intake.client.get(
        "/v1/cases", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=township
    )
    assert [c["case_number"] for c in rest.json()["items"]] == numbers[:1]
    assert rest.json()["next_cursor"] is None
    filtered = await intake.client.get(
        "/v1/cases",
        params={"status": "accepted", "org": "370285101295", "from": "2000-01-01"},
        headers=township,
    )
    assert len(filtered.json()["items"]) == 3
    assert (await intake.client.get("/v1/cases", params={"limit": 101}, headers=township)).status_code == 422

    other = bearer(intake.settings, Role.supervisor, OTHER_TOWNSHIP)
    assert (await intake.client.get("/v1/cases", headers=other)).json()["items"] == []
    hidden = await intake.client.get(f"/v1/cases/{numbers[0]}", headers=other)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    assert (await intake.client.get(f"/v1/cases/{numbers[0]}/receipt", headers=other)).status_code == 404
    assert (await intake.client.get(f"/v1/cases/{numbers[0]}", headers=township)).json()["applicant"][
        "id_number"
    ] == APPLICANT_ID


async def test_openapi_document_describes_every_route(intake: Intake) -> None:
    document = (await intake.client.get("/openapi.json")).json()
    routes = {"/v1/applications", "/v1/cases/{case_number}/handover", "/v1/public/progress/{case_number}"}
    assert routes <= set(document["paths"])


async def test_complaints_from_the_public_and_from_staff(intake: Intake) -> None:
    accepted = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings))
    )
    number, code = accepted.json()["case_number"], accepted.json()["query_code"]
    public = await intake.client.post(
        "/v1/complaints",
        json={"target": "case", "case_number": number, "query_code": code, "summary": "材料被要求多次提交"},
    )
    assert public.status_code == 201, public.text
    guessed = await intake.client.post(
        "/v1/complaints",
        json={"target": "case", "case_number": number, "query_code": "AAAA2222", "summary": "试探"},
    )
    assert guessed.status_code == 404
    window = await intake.client.post(
        "/v1/complaints",
        json={"target": "window", "org": TOWNSHIP, "target_ref": "3号窗口", "summary": "午休提前关窗"},
        headers=bearer(intake.settings, Role.clerk, TOWNSHIP),
    )
    assert window.status_code == 201, window.text
    assert window.json()["org"] == TOWNSHIP
    # The supervisors read it where the 201 said; staff of other roles or units do not.
    location = window.headers["location"]
    assert location == f"/v1/complaints/{window.json()['complaint_id']}"
    supervisor = bearer(intake.settings, Role.supervisor, TOWNSHIP)
    read = await intake.client.get(location, headers=supervisor)
    assert read.status_code == 200 and read.json() == window.json()
    assert public.headers["location"] == f"/v1/complaints/{public.json()['complaint_id']}"
    assert (
        await intake.client.get(location, headers=bearer(intake.settings, Role.clerk, TOWNSHIP))
    ).status_code == 403
    elsewhere = bearer(intake.settings, Role.supervisor, "370285102000")
    assert (await intake.client.get(location, headers=elsewhere)).status_code == 404
