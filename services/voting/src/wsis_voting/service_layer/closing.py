"""When the window closes: finalists per category from the valid votes, `champions.announced`
once, and the bulletin of hashed receipts."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from wsis_shared.errors import PhaseClosed
from wsis_shared.events import ChampionsAnnounced, ChampionsList
from wsis_shared.vocabulary import Category, Phase
from wsis_voting.domain.ballot import CategoryResults, tally_key
from wsis_voting.domain.results import TIE_BREAK_RULE, NomineeCount, finalists, receipt_hash
from wsis_voting.service_layer.unit_of_work import Runner, UnitOfWork

# Votes accepted in the last moments of the window may still be in flight when the phase
# changes; results wait this long after the change.
GRACE: Final = timedelta(seconds=5)


async def finalise_edition(uow: UnitOfWork, year: int, now: datetime) -> list[CategoryResults]:
    """Decides the finalists of every category of a closed window, once: the edition's
    `finalised_at` is written in the same transaction as the results and the events, so a
    second worker (or a second run) finds it set and does nothing."""
    edition = await uow.editions.get(year)
    if not edition.window_closed or edition.finalised_at is not None:
        return []
    learnt_at = edition.phase_recorded_at or edition.phase_changed_at
    if learnt_at is not None and now < learnt_at + GRACE:
        return []
    by_category: dict[Category, list[NomineeCount]] = defaultdict(list)
    for nominee in await uow.nominees.on_ballot(year):
        by_category[nominee.card.category].append(NomineeCount(nominee.entry_id, 0, None))
    decided = []
    for category, zeroes in sorted(by_category.items()):
        counted = {c.entry_id: c for c in await uow.votes.valid_counts(year, category)}
        counts = [counted.get(z.entry_id, z) for z in zeroes]
        standing = {z.entry_id for z in zeroes}
        withdrawn = sorted(entry for entry in counted if entry not in standing)
        salt = secrets.token_hex(16)
        results = CategoryResults(
            edition=year,
            category=category,
            finalists=finalists(counts, salt),
            tie_break_rule=TIE_BREAK_RULE,
            bulletin_salt=salt,
            valid_votes=sum(c.votes for c in counted.values()),
            withdrawn=tuple(withdrawn),
            votes_for_withdrawn=sum(counted[entry].votes for entry in withdrawn),
            decided_at=now,
        )
        await uow.results.add(results)
        await uow.publish(
            ChampionsAnnounced(
                occurred_at=now,
                aggregate_id=results.key,
                aggregate_version=1,
                edition=year,
                payload=ChampionsList(
                    category=category,
                    finalists=results.finalists,
                    tie_break_rule=TIE_BREAK_RULE,
                ),
            ),
            key=tally_key(year, category),
        )
        decided.append(results)
    edition.finalised_at = now
    await uow.editions.save(edition)
    return decided


async def finalise_closed_windows(runner: Runner, years: list[int], now: datetime) -> int:
    decided = 0
    for year in years:

        async def work(uow: UnitOfWork, year: int = year) -> int:
            return len(await finalise_edition(uow, year, now))

        decided += await runner.run(work)
    return decided


async def champions(
    runner: Runner, *, year: int, privileged: bool
) -> tuple[bool, list[CategoryResults]]:
    """The finalists decided at the close, and whether their counts may be shown: the finalists
    are announced at the close, their votes follow the rule of the results
    (`VotingEdition.counts_are_public`) — while the expert group judges an edition that hides
    running counts, the public must not learn them here either. Admins always see them."""

    async def work(uow: UnitOfWork) -> tuple[bool, list[CategoryResults]]:
        edition = await uow.editions.get(year)
        counts_public = edition.counts_shown_to(privileged)
        return counts_public, await uow.results.of_edition(year)

    return await runner.run(work)


class PublishedBulletin(NamedTuple):
    results: CategoryResults
    hashes: dict[str, list[str]]
    # Public for good: the results are out, so no setting can hide its counts again and caches
    # may keep it. Before that it is public only while the edition shows running counts, which
    # an admin may turn off.
    final: bool


async def bulletin(
    runner: Runner, *, year: int, category: Category, privileged: bool, hashes: bool = True
) -> PublishedBulletin | None:
    """The salt and, per nominee voted for (and per finalist), the sorted hashes of its valid
    votes' receipts: together exactly the category's `valid_votes`, the votes for nominations
    withdrawn during the window (`CategoryResults.withdrawn`) included.

    None before the close. Its counts are the lengths of its lists, so the public gets it only
    when the counts are public (`PhaseClosed` until then, saying when); admins always.
    `hashes=False` reads only which results it belongs to (no vote): enough for a caller that
    holds the bulletin already to know it is still the one."""

    async def work(uow: UnitOfWork) -> PublishedBulletin | None:
        results = await uow.results.find(year, category)
        if results is None:
            return None
        edition = await uow.editions.get(year)
        if not edition.counts_shown_to(privileged):
            when = (
                f" on {edition.schedule.results_at:%Y-%m-%d %H:%M} UTC"
                if edition.schedule is not None
                else ""
            )
            raise PhaseClosed(
                f"the bulletin of {category} in {year} holds the vote counts: it is published "
                f"with the results{when}",
                current_phase=edition.phase,
                required_phase=Phase.RESULTS,
                **({"results_at": edition.schedule.results_at} if edition.schedule else {}),
            )
        final = edition.phase.order >= Phase.RESULTS.order
        if not hashes:
            return PublishedBulletin(results, {}, final)
        found: dict[str, list[str]] = {f.entry_id: [] for f in results.finalists}
        async for entry_id, receipt_id in uow.votes.receipts_of(year, category):
            found.setdefault(entry_id, []).append(receipt_hash(results.bulletin_salt, receipt_id))
        return PublishedBulletin(
            results, {entry: sorted(listed) for entry, listed in sorted(found.items())}, final
        )

    return await runner.run(work)
