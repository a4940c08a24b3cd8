"""Identifiers in the order they were made.

A UUIDv4 is random, so a list paged by id (`_id > cursor`) puts a record made during the paging
anywhere: often behind the cursor, never shown. A UUIDv7 (RFC 9562) starts with the time in
milliseconds, so new records sort after the older ones and a walk through the pages ends with
them. Python gains `uuid.uuid7` in 3.14; the platform supports 3.11.
"""

from __future__ import annotations

import secrets
import time
import uuid

_last = 0


def time_ordered_uuid(now_ns: int | None = None) -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, the version, 74 random bits (RFC 9562 §5.7).
    Within a process each one sorts after the one before, even in the same millisecond (the
    random bits then count on, as RFC 9562 §6.2 allows)."""
    global _last
    milliseconds = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    random_a = secrets.randbits(12)
    random_b = secrets.randbits(62)
    value = (milliseconds & (2**48 - 1)) << 80 | 0x7 << 76 | random_a << 64 | 0b10 << 62 | random_b
    if value <= _last and value >> 80 == _last >> 80:
        value = _next_in_the_same_millisecond(_last)
    _last = value
    return uuid.UUID(int=value)


def _next_in_the_same_millisecond(last: int) -> int:
    """`last` + 1 in its 74 random bits, skipping the fixed variant bits."""
    random_a = (last >> 64) & 0xFFF
    random_b = last & (2**62 - 1)
    if random_b < 2**62 - 1:
        random_b += 1
    else:  # 2**74 identifiers in one millisecond: not on this platform
        random_a, random_b = (random_a + 1) & 0xFFF, 0
    return (last >> 76) << 76 | random_a << 64 | 0b10 << 62 | random_b
