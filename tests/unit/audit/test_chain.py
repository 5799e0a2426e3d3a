"""The hash chain: canonical hashing, and each kind of tampering found and located."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import rfc8785

from daiban_audit.domain.chain import (
    GENESIS_HASH,
    Anchor,
    ChainVerifier,
    Entry,
    Failure,
    Verdict,
    canonical_entry,
    entry_hash,
    sealed,
)

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def chain(n: int) -> list[Entry]:
    entries: list[Entry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entry = sealed(
            Entry(
                seq=seq,
                event_id=f"e{seq}",
                type="daiban.case.accepted.v1",
                source="/daiban/n370285000000/intake",
                subject=f"C{seq}",
                time=T0 + timedelta(minutes=seq),
                recorded_at=T0 + timedelta(minutes=seq, seconds=1),
                org="370285101201",
                actor="agent-1",
                data={"case_number": f"C{seq}", "n": seq, "名称": "临时身份证"},
                prev_hash=prev,
            )
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def verify(entries: list[Entry], anchors: list[Anchor] | None = None, **kwargs: object) -> Verdict:
    """The verdict of feeding the entries one by one, which the rows' fast path must match
    whatever the batch size (a batch boundary anywhere, a failure in the middle of a batch)."""
    verifier = ChainVerifier(anchors=anchors or [], **kwargs)  # type: ignore[arg-type]
    for entry in entries:
        if not verifier.feed(entry):
            break
    verdict = verifier.finish()
    rows = [(entry.seq, entry, entry.prev_hash, entry.hash) for entry in entries]
    for size in (1, 2, 3, len(rows) or 1):
        batched = ChainVerifier(anchors=anchors or [], **kwargs)  # type: ignore[arg-type]
        for start in range(0, len(rows), size):
            if not batched.feed_rows(rows[start : start + size], lambda row: entry_hash(row[1])):
                break
        assert batched.finish() == verdict, size
    return verdict


def resealed_from(entries: list[Entry], start: int) -> list[Entry]:
    """What a careful forger does: recompute every link and hash from index `start` on."""
    out = entries[:start]
    prev = out[-1].hash if out else GENESIS_HASH
    for entry in entries[start:]:
        fixed = sealed(dataclasses.replace(entry, prev_hash=prev))
        out.append(fixed)
        prev = fixed.hash
    return out


def test_the_hash_is_sha256_of_the_rfc8785_form_including_the_previous_hash() -> None:
    entry = chain(1)[0]
    canonical = canonical_entry(entry)
    assert canonical == rfc8785.dumps(
        {
            "seq": 1,
            "event_id": "e1",
            "type": "daiban.case.accepted.v1",
            "source": "/daiban/n370285000000/intake",
            "subject": "C1",
            "time": "2026-11-02T01:01:00.000000Z",
            "recorded_at": "2026-11-02T01:01:01.000000Z",
            "org": "370285101201",
            "actor": "agent-1",
            "data": {"case_number": "C1", "n": 1, "名称": "临时身份证"},
            "prev_hash": GENESIS_HASH,
        }
    )
    assert entry.hash == hashlib.sha256(canonical).hexdigest()
    # Key order and offsets do not matter; the instant does.
    shuffled = dataclasses.replace(
        entry, data={"名称": "临时身份证", "n": 1, "case_number": "C1"}, time=entry.time.astimezone()
    )
    assert entry_hash(shuffled) == entry.hash
    assert entry_hash(dataclasses.replace(entry, prev_hash="1" * 64)) != entry.hash


def test_an_intact_chain_passes_with_its_checkpoints() -> None:
    entries = chain(6)
    verdict = verify(entries, [Anchor(3, entries[2].hash, "cp3"), Anchor(6, entries[5].hash, "cp6")])
    assert verdict.ok and verdict.checked == 6 and verdict.anchors_checked == 2


def test_an_edited_entry_is_found_at_its_sequence_number() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], data={"case_number": "C3", "n": 99})
    verdict = verify(entries)
    assert (verdict.failure, verdict.seq, verdict.checked) == (Failure.content_changed, 3, 2)


def test_an_edited_and_rehashed_entry_breaks_the_next_link() -> None:
    entries = chain(5)
    entries[2] = sealed(dataclasses.replace(entries[2], actor="someone-else"))
    verdict = verify(entries)
    assert (verdict.failure, verdict.seq, verdict.suspect_from) == (Failure.broken_link, 4, 3)


def test_a_deleted_entry_is_reported_missing() -> None:
    entries = chain(5)
    del entries[1]
    verdict = verify(entries)
    assert (verdict.failure, verdict.seq) == (Failure.missing, 2)


def test_swapped_entries_are_found_at_the_first_of_them() -> None:
    entries = chain(5)
    a, b = entries[1], entries[2]
    entries[1], entries[2] = dataclasses.replace(b, seq=2), dataclasses.replace(a, seq=3)
    verdict = verify(entries)
    assert verdict.failure is not None and verdict.seq == 2


def test_an_inserted_entry_is_located() -> None:
    entries = chain(5)
    forged = sealed(dataclasses.replace(entries[2], event_id="forged", prev_hash=entries[1].hash, seq=3))
    shifted = [dataclasses.replace(e, seq=e.seq + 1) for e in entries[2:]]
    verdict = verify([*entries[:2], forged, *shifted])
    assert (verdict.failure, verdict.seq) == (Failure.inserted, 3)


def test_a_consistent_rewrite_is_caught_by_a_checkpoint_and_bounded() -> None:
    entries = chain(8)
    anchors = [Anchor(3, entries[2].hash, "cp3"), Anchor(6, entries[5].hash, "cp6")]
    rewritten = [*entries[:4], sealed(dataclasses.replace(entries[4], actor="x")), *entries[5:]]
    rewritten = resealed_from(rewritten, 4)
    verdict = verify(rewritten, anchors)
    assert verdict.failure is Failure.checkpoint_mismatch
    assert (verdict.seq, verdict.suspect_from, verdict.suspect_to) == (6, 4, 6)


def test_a_truncated_tail_is_caught_by_a_checkpoint_beyond_the_end() -> None:
    entries = chain(8)
    verdict = verify(entries[:5], [Anchor(8, entries[7].hash, "cp8")])
    assert verdict.failure is Failure.truncated
    assert (verdict.seq, verdict.suspect_to) == (6, 8)
    assert "第6至8条" in verdict.detail


def test_a_range_checks_only_its_entries_and_anchors() -> None:
    entries = chain(8)
    anchors = [Anchor(8, entries[7].hash, "cp8"), Anchor(4, entries[3].hash, "cp4")]
    verdict = verify(entries[2:5], anchors, from_seq=3, to_seq=5, prev_hash=entries[1].hash)
    assert verdict.ok and verdict.checked == 3 and verdict.anchors_checked == 1


def test_an_entry_past_the_chain_head_is_caught_though_its_hash_is_right() -> None:
    entries = chain(8)
    # Entry 8 is well formed and correctly linked, but the head says the log wrote seven.
    verdict = verify(entries, [Anchor(7, entries[6].hash, "head")], head_size=7)
    assert verdict.failure is Failure.beyond_head
    assert (verdict.seq, verdict.checked) == (8, 7)
    assert "第8条" in verdict.detail and "7条" in verdict.detail
    assert verify(entries[:7], [Anchor(7, entries[6].hash, "head")], head_size=7).ok


def test_the_first_link_can_be_left_unchecked_and_a_wrong_one_is_found() -> None:
    entries = chain(5)
    assert verify(entries[2:], from_seq=3, prev_hash=None).ok
    verdict = verify(entries[2:], from_seq=3, prev_hash="f" * 64)
    assert (verdict.failure, verdict.seq) == (Failure.broken_link, 3)
