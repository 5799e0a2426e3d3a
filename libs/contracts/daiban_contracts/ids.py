"""UUIDv7 (RFC 9562) from the standard library: event ids that sort by the time they were made.

Layout: 48 bits of Unix time in milliseconds, the version (7), 12 bits `rand_a`, the variant (0b10)
and 62 bits `rand_b`. Within one millisecond `rand_a` and `rand_b` act as one 74-bit counter
started at a random value (RFC 9562 section 6.2, method 2 in spirit), so ids made by one process
keep increasing even when the clock does not move or steps back.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

__all__ = ["uuid7"]

_COUNTER_BITS = 74
_lock = threading.Lock()
_last_ms = -1
_last_counter = 0


def uuid7() -> uuid.UUID:
    """A new UUIDv7, greater than every one this process made before."""
    global _last_ms, _last_counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            # Leave the counter's top bit clear so that many ids in one millisecond fit.
            counter = secrets.randbits(_COUNTER_BITS - 1)
        else:
            ms, counter = _last_ms, _last_counter + 1 + secrets.randbits(8)
            if counter >> _COUNTER_BITS:  # counter exhausted: borrow the next millisecond
                ms, counter = ms + 1, secrets.randbits(_COUNTER_BITS - 1)
        _last_ms, _last_counter = ms, counter
    rand_a = counter >> 62
    rand_b = counter & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
