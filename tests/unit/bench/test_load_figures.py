"""The benchmarks' account of slow calls: spread out, or in bursts of the whole stack."""

from __future__ import annotations

from bench.load import Figures


def figures_with_slow(finished_at: list[float]) -> Figures:
    return Figures(per_s=1.0, p50_ms=1.0, p99_ms=1.0, slow=tuple(finished_at))


def test_slow_calls_finishing_together_are_one_burst_and_stragglers_are_not() -> None:
    stall = [10.0 + n * 0.001 for n in range(40)]  # 40 of 64 clients freed within 40 ms
    stragglers = [2.0, 5.0, 5.2, 30.0]
    line = figures_with_slow([*stragglers, *stall]).tail_line(concurrency=64)
    assert line == (
        "over 100 ms: 44 calls, 40 of them in 1 burst (at least 32 finishing within 50 ms of "
        "each other)"
    )


def test_a_chain_of_slow_calls_each_close_to_the_last_is_one_burst() -> None:
    chain = [1.0 + n * 0.04 for n in range(32)]  # 40 ms apart: 1.24 s end to end
    assert "32 of them in 1 burst " in figures_with_slow(chain).tail_line(concurrency=64)


def test_no_slow_calls_no_bursts() -> None:
    assert (
        figures_with_slow([])
        .tail_line(concurrency=64)
        .startswith("over 100 ms: 0 calls, 0 of them in 0 bursts")
    )
