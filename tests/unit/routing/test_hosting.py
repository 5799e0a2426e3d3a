"""Which org units a node acts for (`Settings.hosts`), given the child nodes that run separately."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from daiban_common.settings import Settings


def test_a_county_node_leaves_townships_with_their_own_node_alone() -> None:
    county = Settings(org="370285000000", child_nodes=["370285101000"])
    assert county.hosts("370285000000") and county.hosts("370285102000")
    assert not county.hosts("370285101000") and not county.hosts("370285101294")
    assert not county.hosts("350521000000")


def test_a_township_node_hosts_itself_and_its_villages() -> None:
    township = Settings(org="370285101000")
    assert township.hosts("370285101294")
    assert not township.hosts("370285000000") and not township.hosts("370285102000")


def test_child_nodes_come_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAIBAN_CHILD_NODES", " 370285101000, 370285102000 ,")
    assert Settings(org="370285000000").child_nodes == ["370285101000", "370285102000"]


@pytest.mark.parametrize("child", ["370285000000", "370283101000", "3702851010"])
def test_a_child_node_must_lie_below_the_node(child: str) -> None:
    with pytest.raises(ValidationError, match="DAIBAN_CHILD_NODES"):
        Settings(org="370285000000", child_nodes=[child])
