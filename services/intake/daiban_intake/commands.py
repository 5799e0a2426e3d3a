"""Request bodies: the commands front ends send, validated before any rule runs.

Only the shape is checked here (types, lengths, enums); identity numbers, the item and the
materials are checked by the domain, which names each field in Chinese.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from daiban_common.strict import StrictBool
from daiban_contracts.case import ApplicantKind, Channel, EvaluationLevel, HandoverMethod, Outcome
from daiban_contracts.catalogue import MaterialForm
from daiban_contracts.text import StoredText

# Every string here reaches PostgreSQL; StoredText refuses what it cannot store (422).
Text = StoredText
Code = Annotated[StoredText, Field(min_length=1, max_length=40)]

_ID_NUMBER = (
    "Resident ID number (18 characters). Normalised, not refused: full-width digits and Ｘ become ASCII, "
    "a lower-case x becomes X, spaces and hyphens are removed; only that form is stored and emitted."
)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(_Command):
    """A person (name, resident ID, phone, address) or an organisation (name, credit code, legal rep)."""

    kind: ApplicantKind
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    id_number: Annotated[Text, Field(max_length=30)] | None = Field(default=None, description=_ID_NUMBER)
    credit_code: Annotated[Text, Field(max_length=30)] | None = Field(
        default=None,
        description="Unified social credit code (organisation); full-width characters and lower case "
        "are folded, spaces and hyphens removed",
    )
    legal_representative: Annotated[Text, Field(max_length=50)] | None = None
    phone: Annotated[Text, Field(max_length=30)] | None = None
    address: Annotated[Text, Field(max_length=200)] = ""


class RepresentativeIn(_Command):
    """The person acting for the applicant (代理人/经办人)."""

    name: Annotated[Text, Field(min_length=1, max_length=50)]
    id_number: Annotated[Text, Field(min_length=1, max_length=30)] = Field(description=_ID_NUMBER)
    phone: Annotated[Text, Field(max_length=30)] | None = None
    relation: Annotated[Text, Field(max_length=50)] = ""


class MaterialIn(_Command):
    code: Code
    form: MaterialForm
    copies: int = Field(ge=0, le=99)


class DeficiencyIn(_Command):
    """A deficiency-allowed material the applicant promises to bring by `due_date` (容缺受理)."""

    code: Code
    due_date: date


class OnTheSpotIn(_Command):
    """The result of an immediate item concluded at the window in the same request."""

    outcome: Outcome = Outcome.approved
    result: Annotated[Text, Field(min_length=1, max_length=500)]
    reasons: list[Annotated[Text, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=20
    )


class AcceptApplication(_Command):
    item: Code = Field(description="Implementation code, or a base code unambiguous for the org")
    org: Annotated[Text, Field(pattern=r"^[0-9]{12}$")] = Field(description="The accepting org unit")
    channel: Channel
    applicant: ApplicantIn
    representative: RepresentativeIn | None = None
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    deficiencies: list[DeficiencyIn] = Field(default_factory=list, max_length=100)
    green_channel: StrictBool = False
    on_the_spot: OnTheSpotIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "item": "QR-00300-001-370285000000-01",
                    "org": "370285101201",
                    "channel": "agent",
                    "applicant": {
                        "kind": "person",
                        "name": "张三",
                        "id_number": "11010519491231002X",
                        "phone": "13812345678",
                        "address": "莱西市水集街道某村",
                    },
                    "materials": [{"code": "M01", "form": "original", "copies": 1}],
                    "deficiencies": [{"code": "M03", "due_date": "2026-12-01"}],
                }
            ]
        },
    )


class SupplyMaterials(_Command):
    """Materials brought after acceptance: asked for by a supplement request, or promised deficiencies."""

    materials: list[MaterialIn] = Field(min_length=1, max_length=100)


class HandOver(_Command):
    """The result handed to the applicant where they applied (identity checked), or mailed."""

    method: HandoverMethod
    recipient_name: Annotated[Text, Field(max_length=50)] | None = None
    recipient_id_number: Annotated[Text, Field(max_length=30)] | None = Field(
        default=None, description=_ID_NUMBER
    )
    carrier: Annotated[Text, Field(max_length=50)] | None = None
    tracking_number: Annotated[Text, Field(max_length=50)] | None = None


class Evaluate(_Command):
    case_number: Code
    query_code: Annotated[Text, Field(min_length=1, max_length=16)]
    level: EvaluationLevel
    scores: dict[StoredText, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict, max_length=10)
    comment: Annotated[Text, Field(max_length=500)] = ""


class ComplaintTarget(StrEnum):
    case = "case"
    window = "window"
    staff = "staff"


class FileComplaint(_Command):
    target: ComplaintTarget
    case_number: Code | None = None
    query_code: Annotated[Text, Field(max_length=16)] | None = Field(
        default=None, description="Needed with case_number when filed without a token"
    )
    org: Annotated[Text, Field(pattern=r"^[0-9]{12}$")] | None = Field(
        default=None, description="The org unit of the window or person complained about"
    )
    target_ref: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="Window number or staff id"
    )
    summary: Annotated[Text, Field(min_length=1, max_length=1000)]
    contact_phone: Annotated[Text, Field(max_length=30)] | None = None
