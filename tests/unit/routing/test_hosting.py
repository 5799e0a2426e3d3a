from daiban_routing.config import Hosting


def test_a_county_node_leaves_townships_with_their_own_node_alone() -> None:
    county = Hosting("370285000000", ["370285101000"])
    assert county.hosts("370285000000") and county.hosts("370285102000")
    assert not county.hosts("370285101000") and not county.hosts("370285101294")
    assert not county.hosts("350521000000")


def test_a_township_node_hosts_itself_and_its_villages() -> None:
    township = Hosting("370285101000", [])
    assert township.hosts("370285101294")
    assert not township.hosts("370285000000")
