"""`make bench`: start a throw-away broker and mongod, run every benchmark, print the ratios."""

from __future__ import annotations

import asyncio
import os

from bench import outbox_relay
from wsis_devstack.infrastructure import Infrastructure, ephemeral_infrastructure
from wsis_devstack.paths import cache_dir
from wsis_shared.logging import configure_logging


def main() -> None:
    configure_logging("bench", "console", "WARNING")
    bootstrap, mongo_uri = os.environ.get("WSIS_KAFKA_BOOTSTRAP"), os.environ.get("WSIS_MONGO_URI")
    if bootstrap and mongo_uri:
        report(bootstrap, mongo_uri)
        return
    with ephemeral_infrastructure(cache_dir()) as infra:
        report_on(infra)


def report_on(infra: Infrastructure) -> None:
    report(infra.kafka_bootstrap, infra.mongo_uri)


def report(bootstrap: str, mongo_uri: str) -> None:
    result = asyncio.run(outbox_relay.run(bootstrap, mongo_uri))
    print(
        f"outbox relay: {result['relay_per_s']:,.0f} events/s published from MongoDB "
        f"vs raw idempotent produce {result['raw_produce_per_s']:,.0f} msgs/s "
        f"(ceiling) -> ratio {result['ratio']:.2f} ({outbox_relay.N} events)"
    )


main()
