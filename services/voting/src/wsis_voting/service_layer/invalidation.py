"""An admin rules votes invalid: they stop counting, in the tally and in the results."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import datetime
from typing import Final

from wsis_shared.auth import Principal
from wsis_shared.errors import Conflict, InvalidInput
from wsis_shared.events import RuledOutVotes, VotesRuledOut
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import tally_key
from wsis_voting.domain.invalidation import Invalidation, InvalidationRule
from wsis_voting.service_layer.unit_of_work import Runner, UnitOfWork

MAX_VOTES_PER_RULING: Final = 100_000


async def rule_out_votes(
    runner: Runner,
    *,
    year: int,
    rule: InvalidationRule,
    dry_run: bool,
    admin: Principal,
    now: datetime,
) -> Invalidation:
    """Marks the matching valid votes invalid and takes the counted ones off the tally, in one
    transaction with the audit record. Refused once the results are decided: they were
    computed from the votes valid at that moment. At most `MAX_VOTES_PER_RULING` votes: one
    transaction holds them all, and past that it outlasts MongoDB's time for one."""

    async def work(uow: UnitOfWork) -> Invalidation:
        edition = await uow.editions.get(year)
        if edition.finalised_at is not None:
            raise Conflict(
                f"the results of {year} were decided on {edition.finalised_at:%Y-%m-%d %H:%M} "
                "UTC; votes can be ruled invalid only before that"
            )
        found = await uow.votes.matching(
            year,
            voters=rule.voters,
            categories=rule.categories,
            cast_from=rule.cast_from,
            cast_until=rule.cast_until,
            ip_prefix=rule.ip_text_prefix(),
            limit=MAX_VOTES_PER_RULING + 1,
        )
        if len(found) > MAX_VOTES_PER_RULING:
            raise InvalidInput(
                f"this rule selects more than {MAX_VOTES_PER_RULING:,} votes, more than one "
                "ruling can take: narrow it (by categories, a time window or a smaller address "
                "range) and rule in parts; a dry run counts each part",
                max_votes=MAX_VOTES_PER_RULING,
            )
        ruled_out = [(vote, counted) for vote, counted in found if rule.matches_ip(vote.ip)]
        invalidation = Invalidation(
            invalidation_id=uuid.uuid4().hex,
            edition=year,
            rule=rule,
            by=admin.subject,
            at=now,
            votes_ruled_out=len(ruled_out),
            dry_run=dry_run,
        )
        if dry_run:
            return invalidation
        # Written back as read: should the worker decide the results meanwhile (it writes the
        # edition too), one of the two transactions conflicts and runs again — after the other,
        # so a ruling never slips under results that do not show it.
        await uow.editions.save(edition)
        # In the audit trail even when it matched nothing: every id an admin was given can be
        # looked up there, and the trail shows that the rule was tried.
        await uow.invalidations.add(invalidation)
        if not ruled_out:
            return invalidation
        await uow.votes.rule_out([v.receipt_id for v, _ in ruled_out], invalidation.invalidation_id)
        counted = Counter((v.category, v.entry_id) for v, was_counted in ruled_out if was_counted)
        for (category, entry_id), votes in counted.items():
            await uow.tallies.increment(year, category, entry_id, by=-votes)
        by_category: dict[Category, Counter[str]] = defaultdict(Counter)
        for vote, _ in ruled_out:
            by_category[vote.category][vote.entry_id] += 1
        for category, per_entry in sorted(by_category.items()):
            await uow.publish(
                VotesRuledOut(
                    occurred_at=now,
                    aggregate_id=f"{invalidation.invalidation_id}:{category}",
                    aggregate_version=1,
                    edition=year,
                    payload=RuledOutVotes(
                        category=category,
                        invalidation_id=invalidation.invalidation_id,
                        reason=rule.reason,
                        votes_by_entry=dict(sorted(per_entry.items())),
                    ),
                ),
                key=tally_key(year, category),
            )
        return invalidation

    return await runner.run(work)


async def invalidations(runner: Runner, *, year: int) -> list[Invalidation]:
    async def work(uow: UnitOfWork) -> list[Invalidation]:
        return await uow.invalidations.of_edition(year)

    return await runner.run(work)
