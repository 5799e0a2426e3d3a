"""The hash chain: how an entry is hashed, and how a stored chain is checked.

An entry's hash is SHA-256 over the RFC 8785 canonical JSON of all its fields but the hash itself,
the previous entry's hash and the sequence number included. So changing an entry changes its hash,
and every later entry names the hash it followed: a change, a deletion, a swap or an insertion
breaks the chain where it was made. Someone who rewrites every hash after the change leaves a
consistent chain behind; signed checkpoints held by the parent node catch that, and a cut tail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from daiban_audit.domain.canonical import canonical_json, encode_safe, parse_json_checked
from daiban_contracts.audit import rfc3339_utc

GENESIS_HASH = "0" * 64
# A node keeps one chain; the name leaves room for more without changing the tables.
CHAIN = "main"


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry as stored; `hash` covers every other field."""

    seq: int
    event_id: str
    type: str
    source: str
    subject: str
    time: datetime
    recorded_at: datetime
    org: str
    actor: str
    data: dict[str, Any]
    prev_hash: str
    hash: str = ""


def canonical_entry(entry: Entry) -> bytes:
    """The RFC 8785 canonical JSON of the entry without its hash (see `domain.canonical`)."""
    return canonical_json(
        {
            "seq": entry.seq,
            "event_id": entry.event_id,
            "type": entry.type,
            "source": entry.source,
            "subject": entry.subject,
            "time": rfc3339_utc(entry.time),
            "recorded_at": rfc3339_utc(entry.recorded_at),
            "org": entry.org,
            "actor": entry.actor,
            "data": entry.data,
            "prev_hash": entry.prev_hash,
        }
    )


def entry_hash(entry: Entry) -> str:
    return hashlib.sha256(canonical_entry(entry)).hexdigest()


def stored_entry_hash(
    *,
    seq: int,
    event_id: str,
    type: str,
    source: str,
    subject: str,
    time: str,
    recorded_at: str,
    org: str,
    actor: str,
    data_json: str | bytes,
    prev_hash: str,
) -> str:
    """`entry_hash` of a stored row, computed without building an `Entry`: the instants already
    in `rfc3339_utc` form and `data` as JSON text, UTF-8 (verification reads millions of rows)."""
    data, safe = parse_json_checked(data_json)
    fields = {
        "seq": seq,
        "event_id": event_id,
        "type": type,
        "source": source,
        "subject": subject,
        "time": time,
        "recorded_at": recorded_at,
        "org": org,
        "actor": actor,
        "data": data,
        "prev_hash": prev_hash,
    }
    # The other fields are plain strings and the sequence number, safe but for an absurd seq.
    raw = encode_safe(fields) if safe and abs(seq) <= _SAFE_SEQ else canonical_json(fields)
    return hashlib.sha256(raw).hexdigest()


_SAFE_SEQ = 2**53 - 1


def sealed(entry: Entry) -> Entry:
    """The entry with its hash filled in."""
    return replace(entry, hash=entry_hash(entry))


class Failure(StrEnum):
    missing = "missing"
    inserted = "inserted"
    broken_link = "broken_link"
    content_changed = "content_changed"
    checkpoint_mismatch = "checkpoint_mismatch"
    truncated = "truncated"
    beyond_head = "beyond_head"

    @property
    def label(self) -> str:
        return _FAILURE_LABELS[self]


_FAILURE_LABELS = {
    Failure.missing: "记录缺失",
    Failure.inserted: "插入的记录",
    Failure.broken_link: "链接断裂",
    Failure.content_changed: "内容被修改",
    Failure.checkpoint_mismatch: "与检查点不符",
    Failure.truncated: "尾部被截断",
    Failure.beyond_head: "链头之后的记录",
}


@dataclass(frozen=True, slots=True)
class Anchor:
    """A statement "the chain had `size` entries ending in `head_hash`" from outside the entries."""

    size: int
    head_hash: str
    label: str


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    from_seq: int
    to_seq: int | None
    checked: int
    anchors_checked: int
    failure: Failure | None = None
    seq: int | None = None
    # The entries the failure points at: e.g. a consistent rewrite lies somewhere between the
    # last checkpoint that matched and the one that did not.
    suspect_from: int | None = None
    suspect_to: int | None = None
    detail: str = "日志完整，未发现篡改"


@dataclass
class ChainVerifier:
    """Feed entries in sequence order (in batches if need be), then `finish()` for the verdict.

    Only the first failure is reported: after it, later entries prove nothing about the chain.
    """

    from_seq: int = 1
    to_seq: int | None = None
    # Hash the first entry must name as its predecessor; None to skip that one link check.
    prev_hash: str | None = GENESIS_HASH
    anchors: Sequence[Anchor] = ()
    # The size the chain head records: the log never writes an entry without moving the head in
    # the same transaction, so an entry past it was written around the log (a forged tail).
    head_size: int | None = None
    _expected: int = field(init=False)
    _before_prev: str | None = field(init=False, default=None)
    _checked: int = field(init=False, default=0)
    _anchors_checked: int = field(init=False, default=0)
    _last_good_anchor: int = field(init=False, default=0)
    _verdict: Verdict | None = field(init=False, default=None)
    _by_size: dict[int, list[Anchor]] = field(init=False)

    def __post_init__(self) -> None:
        self._expected = self.from_seq
        self._last_good_anchor = self.from_seq - 1
        self._by_size = {}
        for anchor in self.anchors:
            if self._in_range(anchor.size):
                self._by_size.setdefault(anchor.size, []).append(anchor)

    def _in_range(self, seq: int) -> bool:
        return seq >= self.from_seq and (self.to_seq is None or seq <= self.to_seq)

    @property
    def failed(self) -> bool:
        return self._verdict is not None

    def feed(self, entry: Entry) -> bool:
        """Check one entry; False once the chain has failed (stop feeding then)."""
        return self.feed_hashed(entry.seq, entry.prev_hash, entry.hash, lambda: entry_hash(entry))

    def feed_hashed(self, seq: int, prev_hash: str, stored_hash: str, computed: Callable[[], str]) -> bool:
        """`feed` for a stored row: its sequence number, links, and how to compute its hash."""
        if self._verdict is not None:
            return False
        failure = self._check(seq, prev_hash, stored_hash, computed)
        if failure is not None:
            self._verdict = failure
            return False
        self._before_prev, self.prev_hash = self.prev_hash, stored_hash
        self._expected = seq + 1
        self._checked += 1
        return True

    def feed_rows(self, rows: Iterable[Any], hash_of: Callable[[Any], str]) -> bool:
        """`feed_hashed` for each of a batch of stored rows (`row[0]` the sequence number,
        `row[-2]` the hash it follows, `row[-1]` its own), `hash_of(row)` computing its hash.

        The loop takes the common case (the next entry, linked, no anchor at it, not past the
        head, its hash matching) with the state in local variables; any other row goes through
        `feed_hashed`, which decides and reports exactly as for a single entry.
        """
        if self._verdict is not None:
            return False
        expected, prev, before = self._expected, self.prev_hash, self._before_prev
        head, anchored, checked = self.head_size, self._by_size, self._checked
        for row in rows:
            seq, link, stored = row[0], row[-2], row[-1]
            if (
                seq == expected
                and link == prev
                and (head is None or seq <= head)
                and seq not in anchored
                and hash_of(row) == stored
            ):
                before, prev, expected, checked = prev, stored, seq + 1, checked + 1
                continue
            self._expected, self.prev_hash, self._before_prev, self._checked = expected, prev, before, checked
            if not self.feed_hashed(seq, link, stored, partial(hash_of, row)):
                return False
            expected, prev, before, checked = self._expected, self.prev_hash, self._before_prev, self._checked
        self._expected, self.prev_hash, self._before_prev, self._checked = expected, prev, before, checked
        return True

    def _check(
        self, seq: int, prev_hash: str, stored_hash: str, computed: Callable[[], str]
    ) -> Verdict | None:
        if self.head_size is not None and seq > self.head_size:
            return self._fail(
                Failure.beyond_head,
                seq,
                f"第{seq}条记录在链头之后（链头记录共{self.head_size}条）：记录不是由审计服务写入的",
            )
        if seq != self._expected:
            return self._fail(
                Failure.missing,
                self._expected,
                f"缺少第{self._expected}条记录（下一条是第{seq}条）：记录被删除",
                suspect_to=seq - 1,
            )
        if self.prev_hash is not None and prev_hash != self.prev_hash:
            if self._before_prev is not None and prev_hash == self._before_prev:
                return self._fail(
                    Failure.inserted,
                    seq - 1,
                    f"第{seq - 1}条记录是事后插入的：第{seq}条记录所接的是第{seq - 2}条记录",
                )
            return self._fail(
                Failure.broken_link,
                seq,
                f"第{seq}条记录的前序哈希与第{seq - 1}条记录不符："
                f"第{seq - 1}条记录被改写、其间有记录被删除，或记录的顺序被调换",
                suspect_from=seq - 1,
            )
        if computed() != stored_hash:
            return self._fail(
                Failure.content_changed,
                seq,
                f"第{seq}条记录的内容与其哈希不符：记录在写入后被修改或调换了位置",
            )
        for anchor in self._by_size.get(seq, ()):
            self._anchors_checked += 1
            if anchor.head_hash != stored_hash:
                start = self._last_good_anchor + 1
                return self._fail(
                    Failure.checkpoint_mismatch,
                    seq,
                    f"第{seq}条记录的哈希与{anchor.label}不符：第{start}至{seq}条记录之间有记录被改写",
                    suspect_from=start,
                )
        if seq in self._by_size:
            self._last_good_anchor = seq
        return None

    def _fail(
        self,
        failure: Failure,
        seq: int,
        detail: str,
        *,
        suspect_from: int | None = None,
        suspect_to: int | None = None,
    ) -> Verdict:
        return Verdict(
            ok=False,
            from_seq=self.from_seq,
            to_seq=self.to_seq,
            checked=self._checked,
            anchors_checked=self._anchors_checked,
            failure=failure,
            seq=seq,
            suspect_from=suspect_from if suspect_from is not None else seq,
            suspect_to=suspect_to if suspect_to is not None else seq,
            detail=detail,
        )

    def finish(self) -> Verdict:
        if self._verdict is not None:
            return self._verdict
        last = self._expected - 1
        beyond = [a for size, found in self._by_size.items() if size > last for a in found]
        if beyond:
            longest = max(beyond, key=lambda a: a.size)
            self._anchors_checked += len(beyond)
            return self._fail(
                Failure.truncated,
                last + 1,
                f"日志只到第{last}条记录，而{longest.label}记载了{longest.size}条："
                f"第{last + 1}至{longest.size}条记录被截去",
                suspect_to=longest.size,
            )
        return Verdict(
            ok=True,
            from_seq=self.from_seq,
            to_seq=self.to_seq,
            checked=self._checked,
            anchors_checked=self._anchors_checked,
        )
