from __future__ import annotations

from daiban_audit.domain.masking import mask_personal_data
from daiban_common.identity import mask_text


def test_id_numbers_and_phones_in_free_text_are_masked() -> None:
    text = "申请人370285199001011234，电话13812345678，座机0532-88886666"
    assert mask_text(text) == "申请人370285********1234，电话138****5678，座机0532-****6666"


def test_system_identifiers_are_left_alone() -> None:
    data = {
        "case_number": "370285199001011234",
        "applicant": {"id_hash": "ab" * 32, "id_masked": "370285********1234"},
        "item": {"implementation_code": "XK-00105-001-370285000000-01"},
        "reasons": ["联系人身份证370285199001011234"],
        "org": "370285101201",
    }
    masked = mask_personal_data(data)
    assert masked["case_number"] == data["case_number"]
    assert masked["applicant"] == data["applicant"]
    assert masked["item"] == data["item"]
    assert masked["reasons"] == ["联系人身份证370285********1234"]
    assert masked["org"] == "370285101201"


def test_digits_inside_longer_codes_are_not_taken_for_phones() -> None:
    assert mask_text("A13812345678B") == "A13812345678B"
    assert mask_text("9913812345678") == "9913812345678"


def test_text_is_masked_as_mask_text_masks_it_with_or_without_ascii_digits() -> None:
    """Text without an ASCII digit is not scanned (nothing `mask_text` masks lacks one); full-width
    digits and other numerals were never taken for numbers."""
    samples = [
        "",
        "特困人员救助供养审核确认",
        "电话１３８１２３４５６７８",
        "身份证三七〇二八五",
        "电话13812345678",
        "+86 138 1234 5678",
        "0532-88886666",
        "370285199001011234",
        "M03",
    ]
    for text in samples:
        assert mask_personal_data({"reason": text}) == {"reason": mask_text(text)}
