"""Time-ordered identifiers: what makes a list paged by id end with the records made meanwhile."""

from __future__ import annotations

import uuid

from wsis_shared.identifiers import time_ordered_uuid


def test_it_is_a_version_7_uuid_of_rfc_9562() -> None:
    made = time_ordered_uuid()
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert uuid.UUID(str(made)) == made


def test_later_ones_sort_after_earlier_ones_as_text() -> None:
    earlier = [
        str(time_ordered_uuid(now_ns=1_800_000_000_000_000_000 + n * 1_000_000)) for n in range(50)
    ]
    assert sorted(earlier) == earlier


def test_its_first_48_bits_are_the_milliseconds() -> None:
    made = time_ordered_uuid(now_ns=1_700_000_000_123_456_789)
    assert made.int >> 80 == 1_700_000_000_123


def test_many_in_the_same_millisecond_still_sort_in_order() -> None:
    same = [time_ordered_uuid(now_ns=1_800_000_000_000_000_000) for _ in range(1000)]
    assert [str(u) for u in same] == sorted(str(u) for u in same)
    assert len(set(same)) == 1000
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in same)
