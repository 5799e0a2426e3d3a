"""Made-up applicants with valid resident ID numbers (the check digit of GB 11643 is computed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志海燕春梅丹凤林鹏飞"
    "文斌晓东立新永庆淑珍佳慧德胜翠云宝山"
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id(area: str, birth: date, sequence: int) -> str:
    """An 18-character resident ID number: area, birth date, sequence (odd for men), check digit."""
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str
    phone: str
    address: str

    def as_body(self) -> dict[str, str]:
        return {
            "kind": "person",
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "address": self.address,
        }


def applicant(rng: random.Random, *, today: date, place: str, min_age: int = 20) -> Applicant:
    """A person living at `place` (a village or township name), aged `min_age` to 85."""
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    age_days = rng.randint(min_age * 365 + 30, 85 * 365)
    birth = today - timedelta(days=age_days)
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    number = resident_id("370285", birth, rng.randint(1, 999))
    return Applicant(name=name, id_number=number, phone=phone, address=f"莱西市{place}")
