"""Rules for checkpoints: when a node signs one, and whether a parent may keep one it received."""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from daiban_audit.domain.chain import Anchor
from daiban_contracts.audit import SIGNATURE_ALGORITHM, CheckpointSigned
from daiban_contracts.orgcodes import OrgCode


def checkpoint_due(
    *,
    size: int,
    checkpointed_size: int,
    checkpointed_at: datetime | None,
    now: datetime,
    every_entries: int,
    interval: timedelta,
    by_time: bool,
) -> bool:
    """Due after `every_entries` new entries, or (on the timer) once `interval` has passed with
    entries not yet covered. An empty chain or one fully covered never needs a checkpoint."""
    uncovered = size - checkpointed_size
    if uncovered <= 0:
        return False
    if uncovered >= every_entries:
        return True
    return by_time and (checkpointed_at is None or now - checkpointed_at >= interval)


def signature_valid(checkpoint: CheckpointSigned) -> bool:
    if checkpoint.algorithm != SIGNATURE_ALGORITHM:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(checkpoint.public_key_bytes())
        key.verify(checkpoint.signature_bytes(), checkpoint.statement_bytes())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def refusal(
    checkpoint: CheckpointSigned,
    *,
    addressed_to: str,
    holder_org: str,
    pinned_key: str | None,
) -> str | None:
    """Why a received checkpoint must not be kept (None: keep it). Reasons are Chinese.

    A node keeps the checkpoints of its children; standing in for its parent, it also keeps the
    ones addressed to that parent (`addressed_to` differs from `holder_org` then).
    """
    try:
        sender = OrgCode.parse(checkpoint.node_org)
    except ValueError:
        return f"检查点的节点区划代码{checkpoint.node_org}无效"
    parent = sender.parent
    if parent is None or parent.value != addressed_to:
        return f"检查点发给了{addressed_to}，但节点{sender.value}的上级是{parent}"
    if addressed_to != holder_org and sender.value != holder_org:
        return f"本节点{holder_org}只代上级保管自己的检查点，不保管{sender.value}的"
    if not signature_valid(checkpoint):
        return f"节点{sender.value}的检查点签名无效（第{checkpoint.size}条）"
    if pinned_key is not None and pinned_key != checkpoint.public_key:
        return f"节点{sender.value}的检查点公钥与此前登记的不一致"
    return None


def supplied_checkpoint_refusal(
    checkpoint: CheckpointSigned, *, node_org: str, public_key: str
) -> str | None:
    """Why a checkpoint handed in for verification cannot serve as an anchor (None: it can).

    It must be this node's own, signed with this node's key: a forged one must not be able to
    make a sound chain look broken.
    """
    if checkpoint.node_org != node_org:
        return f"这是节点{checkpoint.node_org}的检查点，不是本节点{node_org}的"
    if checkpoint.public_key != public_key or not signature_valid(checkpoint):
        return "检查点签名无效，或不是本节点的密钥签署的"
    return None


class CheckpointRefused(ValueError):
    """A checkpoint handed in for verification (the `index`th) cannot serve as an anchor."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def supplied_anchors(
    checkpoints: Iterable[CheckpointSigned], *, node_org: str, public_key: str
) -> list[Anchor]:
    """The anchors of this node's checkpoints held elsewhere (e.g. the parent's copies).

    The first refused one refuses them all: a verification must not quietly leave out a
    checkpoint the caller handed in.
    """
    anchors = []
    for index, signed in enumerate(checkpoints):
        reason = supplied_checkpoint_refusal(signed, node_org=node_org, public_key=public_key)
        if reason is not None:
            raise CheckpointRefused(index, reason)
        anchors.append(
            Anchor(
                signed.size, signed.head_hash, f"{signed.signed_at:%Y-%m-%d %H:%M:%S}签署、由上级保管的检查点"
            )
        )
    return anchors
