"""What the HTTP benchmarks share: N calls by C concurrent aiohttp clients, with latencies."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Figures:
    per_s: float
    p50_ms: float
    p99_ms: float
    slow: tuple[float, ...] = ()  # when each call over SLOW_S finished (perf_counter seconds)

    def line(self) -> str:
        return f"{self.per_s:,.0f}/s, p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms"

    def tail_line(self, concurrency: int) -> str:
        """How the slow calls came: spread out, or in bursts where most calls in flight were slow
        together (a stall of the whole stack, not of single requests)."""
        bursts = [b for b in _clusters(self.slow, gap_s=0.05) if len(b) >= concurrency // 2]
        in_bursts = sum(len(b) for b in bursts)
        plural = "" if len(bursts) == 1 else "s"
        return (
            f"over {SLOW_S * 1000:.0f} ms: {len(self.slow):,} calls, {in_bursts:,} of them in "
            f"{len(bursts)} burst{plural} (at least {concurrency // 2} finishing within 50 ms of "
            "each other)"
        )


SLOW_S = 0.1


def _clusters(times: tuple[float, ...], gap_s: float) -> list[list[float]]:
    clusters: list[list[float]] = []
    for t in sorted(times):
        if clusters and t - clusters[-1][-1] <= gap_s:
            clusters[-1].append(t)
        else:
            clusters.append([t])
    return clusters


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


async def drive(
    total: int,
    one: Callable[[aiohttp.ClientSession, int], Awaitable[None]],
    concurrency: int = 32,
) -> Figures:
    """`total` calls of `one` by `concurrency` clients. The load comes from aiohttp: on this
    2-core machine httpx's pool costs more CPU per request than the server under test."""
    latencies: list[float] = []
    slow: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as http:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                started = time.perf_counter()
                await one(http, n)
                finished = time.perf_counter()
                latencies.append(finished - started)
                if finished - started > SLOW_S:
                    slow.append(finished)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Figures(
        per_s=total / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        slow=tuple(slow),
    )
