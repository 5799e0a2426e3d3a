"""`daiban run --services`: which services a node serves."""

from __future__ import annotations

import argparse

import pytest

from daiban_devtools.cli import service_list


def test_a_subset_is_kept_in_order_once_each() -> None:
    assert service_list(" intake,routing , audit,intake") == ("intake", "routing", "audit")


@pytest.mark.parametrize("raw", ["", " , ", "intake,billing"])
def test_unknown_or_no_services_are_refused_naming_the_choices(raw: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"choose from .*catalogue"):
        service_list(raw)
