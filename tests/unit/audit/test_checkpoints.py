from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from daiban_audit.context import load_or_create_signer
from daiban_audit.domain.checkpoints import checkpoint_due, refusal, supplied_checkpoint_refusal
from daiban_audit.domain.signing import NodeSigner
from daiban_contracts.audit import CheckpointSigned

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def signed(signer: NodeSigner, node_org: str = "370285101000", size: int = 10) -> CheckpointSigned:
    unsigned = CheckpointSigned(
        node_org=node_org,
        node="n" + node_org,
        size=size,
        head_hash="a" * 64,
        signed_at=NOW,
        public_key=signer.public_key,
        signature="",
    )
    return unsigned.model_copy(update={"signature": signer.sign(unsigned.statement_bytes())})


def test_checkpoint_due_by_count_or_by_time() -> None:
    args = {
        "checkpointed_at": NOW,
        "now": NOW + timedelta(minutes=1),
        "every_entries": 5,
        "interval": timedelta(minutes=5),
    }
    assert checkpoint_due(size=5, checkpointed_size=0, by_time=False, **args)  # type: ignore[arg-type]
    assert not checkpoint_due(size=4, checkpointed_size=0, by_time=True, **args)  # type: ignore[arg-type]
    later = {**args, "now": NOW + timedelta(minutes=6)}
    assert checkpoint_due(size=4, checkpointed_size=3, by_time=True, **later)  # type: ignore[arg-type]
    assert not checkpoint_due(size=3, checkpointed_size=3, by_time=True, **later)  # type: ignore[arg-type]


def test_key_is_created_once_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.pem"
    first = load_or_create_signer(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_signer(path).public_key == first.public_key


def test_a_parent_keeps_a_childs_good_checkpoint_and_refuses_bad_ones(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path / "k.pem")
    good = signed(signer)
    county = "370285000000"
    assert refusal(good, addressed_to=county, holder_org=county, pinned_key=None) is None
    forged = good.model_copy(update={"size": 11})
    assert "签名无效" in (refusal(forged, addressed_to=county, holder_org=county, pinned_key=None) or "")
    other_key = load_or_create_signer(tmp_path / "other.pem").public_key
    assert "公钥" in (refusal(good, addressed_to=county, holder_org=county, pinned_key=other_key) or "")
    assert refusal(good, addressed_to="370285102000", holder_org="370285102000", pinned_key=None)


def test_a_node_standing_in_for_its_parent_keeps_only_its_own(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path / "k.pem")
    own = signed(signer, node_org="370285000000")
    assert refusal(own, addressed_to="370200000000", holder_org="370285000000", pinned_key=None) is None
    sibling = signed(signer, node_org="370283000000")
    assert refusal(sibling, addressed_to="370200000000", holder_org="370285000000", pinned_key=None)


def test_supplied_checkpoints_must_be_the_nodes_own(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path / "k.pem")
    cp = signed(signer)
    assert supplied_checkpoint_refusal(cp, node_org="370285101000", public_key=signer.public_key) is None
    assert supplied_checkpoint_refusal(cp, node_org="370285102000", public_key=signer.public_key)
    stranger = load_or_create_signer(tmp_path / "s.pem").public_key
    assert supplied_checkpoint_refusal(cp, node_org="370285101000", public_key=stranger)
