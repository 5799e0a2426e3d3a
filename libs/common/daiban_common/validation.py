"""Validation errors in Chinese: pydantic's English messages become ones a clerk can act on, each
naming the field at fault (`applicant.id_number`, `rows[3].name`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi.exceptions import RequestValidationError

from daiban_common.errors import FieldError, InvalidInput
from daiban_contracts.text import STORABLE_PATTERN, UNSTORABLE_MESSAGE

logger = logging.getLogger(__name__)

_CJK_RE: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# ---------------------------------------------------------------------------------------------
# Validation errors: pydantic's English messages become Chinese ones a clerk can act on.

_LOCATION_SOURCES: Final = frozenset({"body", "query", "path", "header", "cookie"})

_MESSAGES: Final[Mapping[str, str]] = {
    "missing": "必填字段缺失",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "请求体不是有效的JSON",
    "json_type": "应为JSON字符串",
    "none_required": "此处不应有值",
    "string_type": "应为字符串",
    "string_too_short": "长度不能少于{min_length}个字符",
    "string_too_long": "长度不能超过{max_length}个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": UNSTORABLE_MESSAGE,
    "string_not_ascii": "只能包含ASCII字符",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "int_parsing_size": "整数超出允许范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_digits": "数字总位数不能超过{max_digits}位",
    "decimal_max_places": "小数位数不能超过{decimal_places}位",
    "decimal_whole_digits": "整数部分不能超过{whole_digits}位",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "必须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "multiple_of": "必须是{multiple_of}的倍数",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多允许{max_length}项",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "frozen_set_type": "应为数组",
    "iterable_type": "应为数组",
    "dict_type": "应为对象",
    "mapping_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dataclass_type": "应为对象",
    "enum": "取值必须是以下之一：{expected}",
    "literal_error": "取值必须是以下之一：{expected}",
    "union_tag_invalid": "类型标识{tag}无效，应为以下之一：{expected_tags}",
    "union_tag_not_found": "缺少类型标识字段{discriminator}",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期，不能带时间",
    "date_past": "日期必须早于今天",
    "date_future": "日期必须晚于今天",
    "time_type": "应为时间（HH:MM:SS）",
    "time_parsing": "应为时间（HH:MM:SS）",
    "datetime_type": "应为带时区的时间（RFC 3339）",
    "datetime_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_from_date_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_object_invalid": "时间无效",
    "datetime_past": "时间必须早于当前时间",
    "datetime_future": "时间必须晚于当前时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "必须带时区",
    "timezone_offset": "时区偏移应为{tz_expected}秒",
    "time_delta_type": "应为时长",
    "time_delta_parsing": "应为时长",
    "uuid_type": "应为UUID",
    "uuid_parsing": "应为UUID",
    "uuid_version": "应为第{expected_version}版UUID",
    "url_type": "应为网址",
    "url_parsing": "应为有效的网址",
    "url_syntax_violation": "应为有效的网址",
    "url_too_long": "网址过长",
    "url_scheme": "网址协议应为{expected_schemes}",
    "bytes_type": "应为字节串",
    "bytes_too_short": "长度不能少于{min_length}字节",
    "bytes_too_long": "长度不能超过{max_length}字节",
    "bytes_invalid_encoding": "编码无效",
    "frozen_field": "此字段不可修改",
    "recursion_loop": "数据存在循环引用",
    "recursion_depth_exceeded": "数据嵌套过深",
}

# pydantic writes choices as "'a', 'b' or 'c'"; Chinese lists them with the enumeration comma.
_CHOICE_SEPARATOR_RE: Final = re.compile(r"(?:, | or )(?=['\"\d-])")


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "materials", 1, "copies")` -> `"materials[1].copies"`; a bare location stays."""
    parts = list(loc)
    source = ""
    if parts and isinstance(parts[0], str) and parts[0] in _LOCATION_SOURCES:
        source = str(parts.pop(0))
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or source


def validation_message(error: Mapping[str, Any]) -> str:
    """A Chinese message for one pydantic error dict (as in `ValidationError.errors()`)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        # Our own validators raise ValueError with a Chinese sentence meant for the clerk.
        reason = str(ctx.get("error", ""))
        if has_cjk(reason):
            return reason
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == STORABLE_PATTERN:
        return UNSTORABLE_MESSAGE
    elif kind in _MESSAGES:
        values = {
            key: _CHOICE_SEPARATOR_RE.sub("、", value) if isinstance(value, str) else value
            for key, value in ctx.items()
        }
        try:
            return _MESSAGES[kind].format_map(values)
        except (KeyError, IndexError, ValueError):
            pass
    elif has_cjk(msg):
        # A PydanticCustomError of ours carries its Chinese message as `msg`.
        return msg
    return f"取值无效（{msg}）" if msg else "取值无效"


def validation_problem(exc: RequestValidationError) -> InvalidInput:
    errors: list[FieldError] = []
    for error in exc.errors():
        loc: Sequence[str | int] = tuple(error.get("loc", ()))
        kind = error.get("type")
        if kind == "json_invalid":
            # FastAPI puts the character offset after "body"; that is no field.
            errors.append(FieldError("body", _MESSAGES["json_invalid"]))
        elif kind == "missing" and tuple(loc) == ("body",):
            errors.append(FieldError("body", "缺少请求体"))
        else:
            errors.append(FieldError(field_path(loc), validation_message(error)))
    return InvalidInput(errors=errors)


# What a body that is not JSON (or not UTF-8) is told, wherever it is found out.
INVALID_JSON: Final = _MESSAGES["json_invalid"]
