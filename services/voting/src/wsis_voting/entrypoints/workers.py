"""The voting worker's own loops, beside its consumers: the vote relay and the results of
closed windows."""

from __future__ import annotations

import asyncio
import contextlib

from pymongo.errors import PyMongoError

from wsis_shared.events import utcnow
from wsis_shared.logging import get_logger
from wsis_shared.runtime import Resources
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_voting.adapters.repositories import VotingUnitOfWork, erase_vote_addresses
from wsis_voting.adapters.vote_relay import VoteRelay
from wsis_voting.service_layer.closing import finalise_closed_windows
from wsis_voting.settings import VotingSettings

log = get_logger(__name__)


async def relay_votes(resources: Resources, stop: asyncio.Event) -> None:
    settings = resources.settings
    assert isinstance(settings, VotingSettings)
    await VoteRelay(
        resources.db,
        bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        pseudonym_key=settings.voter_pseudonym_key.get_secret_value().encode(),
    ).run(stop)


async def finalise_results(resources: Resources, stop: asyncio.Event) -> None:
    """Every few seconds: editions whose window closed get their finalists, once; then the
    addresses kept with their votes (for rulings by address range) are erased."""
    runner = MongoUnitOfWorkRunner(resources, VotingUnitOfWork)
    while not stop.is_set():
        try:
            pending = [
                document["_id"]
                async for document in resources.db["editions"].find(
                    {"finalised_at": None, "phase": {"$in": ["selection", "results", "closed"]}},
                    {"_id": 1},
                )
            ]
            if pending:
                decided = await finalise_closed_windows(runner, pending, utcnow())
                if decided:
                    log.info("voting.results_decided", editions=pending, categories=decided)
            async for document in resources.db["editions"].find(
                {"finalised_at": {"$ne": None}, "addresses_erased_at": None}, {"_id": 1}
            ):
                erased = await erase_vote_addresses(resources.db, document["_id"], utcnow())
                log.info("voting.addresses_erased", edition=document["_id"], votes=erased)
        except PyMongoError as exc:
            log.warning("voting.results_retrying", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 2.0)
