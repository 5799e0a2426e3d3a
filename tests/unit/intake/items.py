"""Item versions and identity numbers for intake's tests, built with the wire contract directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from stdnum.cn import ric

from daiban_contracts.catalogue import (
    Departments,
    ItemKind,
    ItemStatus,
    ItemType,
    ItemVersionData,
    LegalBasis,
    Material,
    MaterialForm,
    MaterialSource,
    Tier,
)

COUNTY = "370285000000"
PROMISED_ITEM = "QR-00300-001-370285000000-01"


def resident_id(body17: str = "37028519900101123") -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


APPLICANT_ID = resident_id()
APPLICANT_PHONE = "13812345678"
APPLICANT_NAME = "王秀英"


def materials() -> tuple[Material, ...]:
    return (
        Material(code="M01", name="申请表", form=MaterialForm.original, copies=1, core=True),
        Material(code="M02", name="居民身份证", form=MaterialForm.copy, copies=2, core=True),
        Material(code="M03", name="户口簿", form=MaterialForm.copy, copies=1, deficiency_allowed=True),
        Material(
            code="M04",
            name="不动产登记证明",
            form=MaterialForm.electronic,
            copies=1,
            source=MaterialSource.government,
        ),
        Material(
            code="M05",
            name="委托书",
            form=MaterialForm.original,
            copies=1,
            required=False,
            condition="代办时",
        ),
    )


def item(
    code: str = PROMISED_ITEM,
    *,
    kind: ItemKind = ItemKind.promised,
    handling_level: Tier = Tier.township,
    acceptable_tiers: tuple[Tier, ...] = (Tier.village, Tier.township, Tier.county),
    version: int = 1,
    status: ItemStatus = ItemStatus.published,
    promised_working_days: int = 5,
    name: str = "困难群众临时救助申请",
) -> ItemVersionData:
    base = code.rsplit("-", 2)[0]
    return ItemVersionData(
        base_code=base,
        implementation_code=code,
        name=name,
        type=ItemType.administrative_confirmation,
        kind=kind,
        handling_level=handling_level,
        acceptable_tiers=acceptable_tiers,
        implementing_org=COUNTY,
        departments=Departments(lead=f"{handling_level.value}.civil_affairs"),
        legal_basis=(LegalBasis(law="《社会救助暂行办法》", article="第四十七条"),),
        materials=materials(),
        statutory_working_days=promised_working_days * 2,
        promised_working_days=promised_working_days,
        name_pinyin="kunnanqunzhonglinshijiuzhushenqing",
        name_initials="knqzlsjzsq",
        version=version,
        status=status,
        effective_date=date.today() - timedelta(days=1),
        published_at=datetime.now(UTC),
        previous_version=version - 1 if version > 1 else None,
    )
