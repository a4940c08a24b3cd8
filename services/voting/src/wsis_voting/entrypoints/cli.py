"""`python -m wsis_voting tally verify|rebuild`: the operator's check of the tally."""

from __future__ import annotations

from typing import Annotated

import typer

from wsis_shared.runtime import run_operator_command
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_voting.adapters.repositories import VotingUnitOfWork
from wsis_voting.service_layer import tally_audit
from wsis_voting.service_layer.tally_audit import TallyCheck
from wsis_voting.settings import VotingSettings

tally = typer.Typer(help="Check or recreate the tally from the votes.", no_args_is_help=True)

Edition = Annotated[int | None, typer.Option(help="one edition (default: all)", min=2000, max=2100)]


def _report(check: TallyCheck) -> None:
    typer.echo(
        f"counted votes: {check.counted_votes:,}; not yet counted (tally lag): "
        f"{check.uncounted:,}; differences: {len(check.differences)}"
    )
    for (edition, category, entry_id), (counted, votes) in check.differences.items():
        typer.echo(f"  {edition} {category} {entry_id}: tally {counted}, votes {votes}")
    if not check.ok:
        raise typer.Exit(1)


def _run(rebuild: bool, edition: int | None) -> TallyCheck:
    from wsis_voting.app import SERVICE

    async def check(settings: VotingSettings) -> TallyCheck:
        async with SERVICE.open_resources(settings) as resources:
            runner = MongoUnitOfWorkRunner(resources, VotingUnitOfWork)
            if rebuild:
                return await tally_audit.rebuild(runner, edition=edition)
            return await tally_audit.verify(runner, edition=edition)

    return run_operator_command(SERVICE, check)


@tally.command()
def verify(edition: Edition = None) -> None:
    """Compare the tally with the valid votes it counted; exit 1 on any difference (2: MongoDB
    out of reach or the environment incomplete)."""
    _report(_run(False, edition))


@tally.command()
def rebuild(edition: Edition = None) -> None:
    """Recreate the tally from the valid votes (safe while the workers run)."""
    _report(_run(True, edition))
