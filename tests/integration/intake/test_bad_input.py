"""Every kind of bad input is a clear 4xx problem+json naming the field; never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from daiban_common.auth import Role
from daiban_common.identity import salted_hash
from daiban_contracts.catalogue import Tier
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    OTHER_TOWNSHIP,
    application,
    bearer,
    emitted,
    item,
    keyed,
    publish_item,
    resident_id,
)

TOWNSHIP_ONLY = "XK-00105-001-370285000000-01"

pytestmark = pytest.mark.integration

PERSON = application()["applicant"]

BAD_APPLICATIONS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown item", application(item_code="QR-09999-001-370285000000-01"), 422, "item_code"),
    ("not acceptable at a village", application(item_code=TOWNSHIP_ONLY), 422, "org"),
    ("org outside the caller's", application(org=OTHER_TOWNSHIP), 404, "org"),
    ("not a division code", application(org="990285101201"), 422, "org"),
    (
        "bad check digit",
        application(applicant={**PERSON, "id_number": APPLICANT_ID[:-1] + "0"}),
        422,
        "applicant.id_number",
    ),
    ("bad phone", application(applicant={**PERSON, "phone": "12345"}), 422, "applicant.phone"),
    (
        "bad credit code",
        application(
            applicant={
                "kind": "organisation",
                "name": "某合作社",
                "credit_code": "91110000802100433A",
                "legal_representative": "张三",
            }
        ),
        422,
        "applicant.credit_code",
    ),
    (
        "material the item lacks",
        application(materials=[{"code": "M99", "form": "copy", "copies": 1}]),
        422,
        "materials[0].code",
    ),
    (
        "negative copies",
        application(materials=[{"code": "M01", "form": "copy", "copies": -1}]),
        422,
        "materials[0].copies",
    ),
    (
        "promise in the past",
        application(deficiencies=[{"code": "M03", "due_date": "2020-01-01"}]),
        422,
        "deficiencies[0].due_date",
    ),
    ("unknown channel", application(channel="fax"), 422, "channel"),
    ("online for an offline item", application(channel="online"), 422, "channel"),
    ("NUL in a name", application(applicant={**PERSON, "name": "王\x00"}), 422, "applicant.name"),
    ("unknown field", application(extra=1), 422, "extra"),
    # `make fuzz`: 0 was read as false; the document says boolean.
    ("green channel a number", application(green_channel=0), 422, "green_channel"),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "field"), BAD_APPLICATIONS, ids=[b[0] for b in BAD_APPLICATIONS]
)
async def test_bad_applications(
    intake: Intake, case: str, body: dict[str, Any], status: int, field: str
) -> None:
    await publish_item(
        intake.settings, intake.runtime, item(TOWNSHIP_ONLY, acceptable_tiers=(Tier.township, Tier.county))
    )
    headers = keyed(bearer(intake.settings, Role.clerk, "370285101000"))
    response = await intake.client.post("/v1/applications", json=body, headers=headers)
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    problem = response.json()
    assert response.status_code == status, problem
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert problem["detail"]


async def test_county_org_is_outside_a_township_node(intake: Intake) -> None:
    county_clerk = keyed(bearer(intake.settings, Role.clerk, "370285000000"))
    body = application(org="370285000000", channel="window")
    response = await intake.client.post("/v1/applications", json=body, headers=county_clerk)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "org"


async def test_forbidden_role_and_missing_token(intake: Intake) -> None:
    auditor = bearer(intake.settings, Role.auditor, "370285101000")
    assert (
        await intake.client.post("/v1/applications", json=application(), headers=keyed(auditor))
    ).status_code == 403
    assert (
        await intake.client.post("/v1/applications", json=application(), headers=keyed({}))
    ).status_code == 401


# Each of these was a 500: the NUL reached PostgreSQL, which cannot store or compare it.
NUL_REQUESTS = [
    ("GET", "/v1/cases?item_code=a%00b", "item_code"),
    ("GET", "/v1/cases/a%00b", "case_number"),
    ("GET", "/v1/cases/a%00b/receipt", "case_number"),
    ("GET", "/v1/cases/a%00b/receipt.html", "case_number"),
    ("GET", "/v1/notices/a%00b", "notice_number"),
    ("GET", "/v1/notices/a%00b.html", "notice_number"),
    ("GET", "/v1/public/progress/a%00b?query_code=1234", "case_number"),
    ("GET", "/v1/public/progress/370285101201-20261201-0001?query_code=a%00b", "query_code"),
]


@pytest.mark.parametrize(("method", "url", "field"), NUL_REQUESTS, ids=[r[1] for r in NUL_REQUESTS])
async def test_nul_in_query_and_path_is_422(intake: Intake, method: str, url: str, field: str) -> None:
    clerk = bearer(intake.settings, Role.clerk, "370285101000")
    response = await intake.client.request(method, url, headers=clerk)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        field: "不能包含空字符或无效的Unicode字符"
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"case_number": "a", "query_code": "1", "level": "satisfied", "comment": "\\ud800"}', "comment"),
        ('{"case_number": "a\\u0000", "query_code": "1", "level": "satisfied"}', "case_number"),
        ('{"case_number": "a", "query_code": "1", "level": "satisfied", "scores": {"x": 7}}', "scores.x"),
    ],
)
async def test_unstorable_or_unbounded_evaluation_is_422(intake: Intake, body: str, field: str) -> None:
    response = await intake.client.post(
        "/v1/public/evaluations", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


def _ending_in_x() -> str:
    return next(
        number
        for number in (resident_id(f"370285199001011{n:02d}") for n in range(100))
        if number.endswith("X")
    )


async def test_id_numbers_typed_with_an_input_method_are_stored_normalised(intake: Intake) -> None:
    """Lower-case x, full-width digits and inner spaces are normalised, never stored as typed."""
    number = _ending_in_x()
    typed = (
        "".join(chr(ord(c) + 0xFEE0) for c in number[:6]) + " " + number[6:14] + "　" + number[14:].lower()
    )
    body = application(applicant={**PERSON, "id_number": typed})
    clerk = bearer(intake.settings, Role.clerk, "370285101000")
    response = await intake.client.post("/v1/applications", json=body, headers=keyed(clerk))
    assert response.status_code == 201, response.text
    case = (await intake.client.get(f"/v1/cases/{response.json()['case_number']}", headers=clerk)).json()
    assert case["applicant"]["id_number"] == number
    [event] = await emitted(intake.runtime, "daiban.case.accepted.v1")
    salt = intake.settings.resolved_pii_salt()
    assert event.data["case"]["applicant"]["id_hash"] == salted_hash(number, salt)
    assert event.data["case"]["applicant"]["id_masked"] == number[:6] + "********" + number[-4:]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/cases?item=QR-00300-001-370285000000-01", "item"),  # item_code since issue 18
        ("/v1/cases?case=370285101201-20261201-0001", "case"),
    ],
)
async def test_an_unknown_filter_is_refused_not_ignored(intake: Intake, url: str, field: str) -> None:
    """A filter renamed by docs/api-vocabulary.md must not quietly give every case instead."""
    response = await intake.client.get(url, headers=bearer(intake.settings, Role.clerk, "370285101000"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
