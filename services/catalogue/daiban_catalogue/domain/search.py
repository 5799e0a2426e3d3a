"""Search keys and the matching rule behind item search.

The database does the searching; this module is the rule it must follow, so both agree:
text is NFKC-normalised (full-width letters and digits become ASCII), lowercased and stripped of
all whitespace; a query matches when it is a substring of the name, its pinyin, its initials, a
keyword, or either code.
"""

from __future__ import annotations

import re
import unicodedata

from daiban_contracts.catalogue import ItemVersionData

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def normalise(text: str) -> str:
    """The form both the query and the searched text take before comparing."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def derive_search_keys(name: str) -> tuple[str, str]:
    """`身份证` -> ("shenfenzheng", "sfz").

    pypinyin's default reading is used (no heteronyms): its phrase dictionary already reads 银行 as
    yin hang and 重度 as zhong du, and a search index with every possible reading would match too
    much. ü is written v (绿 -> lv), as people type it. Letters and digits in the name are kept,
    punctuation dropped.
    """
    # Imported here: its dictionaries cost the process ~54 MB, and only drafting an item needs them.
    from pypinyin import Style, lazy_pinyin

    text = unicodedata.normalize("NFKC", name)
    full = "".join(lazy_pinyin(text, style=Style.NORMAL))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return _NOT_ALNUM.sub("", full.lower()), _NOT_ALNUM.sub("", initials.lower())


def search_texts(item: ItemVersionData) -> tuple[str, ...]:
    """Everything a query is matched against, already normalised."""
    return (
        normalise(item.name),
        item.name_pinyin,
        item.name_initials,
        normalise(item.base_code),
        normalise(item.implementation_code),
        *(normalise(keyword) for keyword in item.keywords),
    )


def matches_query(item: ItemVersionData, q: str) -> bool:
    """Does the item match a search box query? An empty query matches everything."""
    query = normalise(q)
    return not query or any(query in text for text in search_texts(item))
