"""Who applies: a person or an organisation, and the person acting for them; validated, normalised.

The stored form keeps everything in full (the window prints it, handover checks identity); what
leaves the node is `applicant_ref`: masked, with a salted hash of the ID for matching.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

from daiban_common.errors import FieldError, InvalidInput
from daiban_common.identity import (
    InvalidIdentity,
    mask_credit_code,
    mask_name,
    mask_resident_id,
    normalize_credit_code,
    normalize_resident_id,
    salted_hash,
)
from daiban_contracts.case import ApplicantKind, ApplicantRef

# Mobile (11 digits from 1) or a landline with area code; separators and +86 allowed.
_PHONE: Final = re.compile(r"^(\+86|0086)?(1[3-9][0-9]{9}|0[1-9][0-9]{1,3}[0-9]{7,8})$")
_PHONE_SEPARATORS: Final = re.compile(r"[\s\-()（）]")


@dataclass(frozen=True)
class Applicant:
    kind: ApplicantKind
    name: str
    # Resident ID for a person, unified social credit code for an organisation; normalised.
    id_number: str
    phone: str | None = None
    address: str = ""
    legal_representative: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Applicant:
        return cls(**{**record, "kind": ApplicantKind(record["kind"])})


@dataclass(frozen=True)
class Representative:
    """The person acting for the applicant (代理人/经办人)."""

    name: str
    id_number: str
    phone: str | None = None
    relation: str = ""

    def as_record(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}


def normalise_phone(raw: str, field: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", raw.strip())
    if not _PHONE.fullmatch(phone):
        raise InvalidInput.field(field, "电话号码格式错误：应为11位手机号或带区号的固定电话")
    return phone


def _resident_id(raw: str, field: str, today: date) -> str:
    try:
        return normalize_resident_id(raw, today=today)
    except InvalidIdentity as exc:
        raise InvalidInput.field(field, exc.message) from None


def person(*, name: str, id_number: str, phone: str | None, address: str, today: date) -> Applicant:
    errors: list[FieldError] = []
    normalised = ""
    try:
        normalised = _resident_id(id_number, "applicant.id_number", today)
    except InvalidInput as exc:
        errors += exc.errors
    if not phone:
        errors.append(FieldError("applicant.phone", "自然人申请须填写联系电话"))
    else:
        try:
            phone = normalise_phone(phone, "applicant.phone")
        except InvalidInput as exc:
            errors += exc.errors
    if errors:
        raise InvalidInput(errors=errors)
    return Applicant(ApplicantKind.person, name.strip(), normalised, phone, address.strip())


def organisation(
    *, name: str, credit_code: str, legal_representative: str | None, phone: str | None
) -> Applicant:
    errors: list[FieldError] = []
    try:
        code = normalize_credit_code(credit_code)
    except InvalidIdentity as exc:
        errors.append(FieldError("applicant.credit_code", exc.message))
        code = ""
    if not legal_representative or not legal_representative.strip():
        errors.append(FieldError("applicant.legal_representative", "法人申请须填写法定代表人"))
    if phone:
        try:
            phone = normalise_phone(phone, "applicant.phone")
        except InvalidInput as exc:
            errors += exc.errors
    if errors:
        raise InvalidInput(errors=errors)
    return Applicant(
        ApplicantKind.organisation,
        name.strip(),
        code,
        phone or None,
        legal_representative=(legal_representative or "").strip(),
    )


def representative(
    *, name: str, id_number: str, phone: str | None, relation: str, today: date
) -> Representative:
    normalised = _resident_id(id_number, "representative.id_number", today)
    if phone:
        phone = normalise_phone(phone, "representative.phone")
    return Representative(name.strip(), normalised, phone or None, relation.strip())


def applicant_ref(applicant: Applicant, salt: str) -> ApplicantRef:
    """The applicant as events leaving the node carry them: masked, plus a salted hash."""
    masked = (
        mask_resident_id(applicant.id_number)
        if applicant.kind is ApplicantKind.person
        else mask_credit_code(applicant.id_number)
    )
    # An organisation's name is public (it is on its licence); a person's is not.
    name = mask_name(applicant.name) if applicant.kind is ApplicantKind.person else applicant.name
    return ApplicantRef(
        kind=applicant.kind,
        name_masked=name,
        id_masked=masked,
        id_hash=salted_hash(applicant.id_number, salt),
    )


def may_collect(recipient_id: str, applicant: Applicant, representative: dict[str, Any] | None) -> bool:
    """Whether the holder of `recipient_id` (normalised) may collect the result in person."""
    if applicant.kind is ApplicantKind.person and recipient_id == applicant.id_number:
        return True
    if representative is not None and recipient_id == representative.get("id_number"):
        return True
    # An organisation's result goes to a person named in its letter of authorisation, which the
    # clerk checks on paper; the ID is recorded either way.
    return applicant.kind is ApplicantKind.organisation and representative is None
