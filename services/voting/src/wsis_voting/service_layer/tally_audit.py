"""`tally verify` and `tally rebuild`: the tally is a projection of the valid votes and must
always equal the votes it has counted."""

from __future__ import annotations

from dataclasses import dataclass, field

from wsis_voting.service_layer.unit_of_work import Runner, UnitOfWork


@dataclass(frozen=True)
class TallyCheck:
    differences: dict[tuple[int, str, str], tuple[int, int]] = field(default_factory=dict)
    uncounted: int = 0  # valid votes the tally consumer has not reached yet (its lag)
    counted_votes: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences


async def verify(runner: Runner, *, edition: int | None = None) -> TallyCheck:
    """Compares, per nominee, the tally with the valid votes it has counted: (tally, votes) for
    every difference; uncounted votes are reported apart (lag, not an error)."""

    async def work(uow: UnitOfWork) -> TallyCheck:
        tally = await uow.tallies.all(edition)
        votes = await uow.votes.counted_by_entry(edition)
        differences = {
            key: (tally.get(key, 0), votes.get(key, 0))
            for key in sorted(set(tally) | set(votes))
            if tally.get(key, 0) != votes.get(key, 0)
        }
        return TallyCheck(
            differences=differences,
            uncounted=await uow.votes.uncounted(edition),
            counted_votes=sum(votes.values()),
        )

    return await runner.run(work)


async def rebuild(runner: Runner, *, edition: int | None = None) -> TallyCheck:
    """Recreates the tally from the valid votes it has counted, in one transaction: a tally
    consumer running meanwhile conflicts with it and retries, so nothing is lost."""

    async def work(uow: UnitOfWork) -> None:
        await uow.tallies.replace_all(edition, await uow.votes.counted_by_entry(edition))

    await runner.run(work)
    return await verify(runner, edition=edition)
