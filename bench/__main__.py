"""`make bench`: every benchmark on a throw-away broker and mongod (or on the ones named by
WSIS_KAFKA_BOOTSTRAP and WSIS_MONGO_URI); each prints its figure beside its ceiling. The
reviewer assignment needs neither and runs first."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench import assignment, outbox_relay, submissions, vote_storm
from wsis_devstack.infrastructure import ephemeral_infrastructure
from wsis_devstack.paths import cache_dir
from wsis_shared.logging import configure_logging


def report(bootstrap: str, mongo_uri: str) -> None:
    result = asyncio.run(outbox_relay.run(bootstrap, mongo_uri))
    print(
        f"outbox relay: {result['relay_per_s']:,.0f} events/s published from MongoDB "
        f"vs raw idempotent produce {result['raw_produce_per_s']:,.0f} msgs/s "
        f"(ceiling) -> ratio {result['ratio']:.2f} ({outbox_relay.N} events)",
        flush=True,
    )
    if "--only-outbox" not in sys.argv:
        with tempfile.TemporaryDirectory() as workdir:
            print(submissions.main(bootstrap, mongo_uri, Path(workdir)), flush=True)
        with tempfile.TemporaryDirectory() as workdir:
            print(vote_storm.main(bootstrap, mongo_uri, Path(workdir)), flush=True)


def main() -> None:
    configure_logging("bench", "console", "WARNING")
    if "--only-outbox" not in sys.argv:
        print(assignment.main(), flush=True)
    bootstrap, mongo_uri = os.environ.get("WSIS_KAFKA_BOOTSTRAP"), os.environ.get("WSIS_MONGO_URI")
    if bootstrap and mongo_uri:
        report(bootstrap, mongo_uri)
        return
    with ephemeral_infrastructure(cache_dir()) as infra:
        report(infra.kafka_bootstrap, infra.mongo_uri)


main()
