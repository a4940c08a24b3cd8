"""`python -m wsis_stocktaking projections rebuild`: the operator's way to rebuild the catalogue
from the topics (after a projection bug is fixed, or when its collections are lost)."""

from __future__ import annotations

from typing import Annotated

import typer

from wsis_shared.messaging.rebuild import ConsumerGroupBusy, RebuildReport, rebuild_projection
from wsis_shared.runtime import run_operator_command
from wsis_stocktaking.settings import StocktakingSettings

projections = typer.Typer(help="Rebuild the Stocktaking projections.", no_args_is_help=True)

# The collections the projection handlers write; reports and contributions are not projections.
CATALOGUE_COLLECTIONS = ("catalogue", "editions")


def _print_progress(report: RebuildReport) -> None:
    parts = [
        f"{progress.topic} {progress.done:,}/{progress.total:,} ({progress.percent:.0f}%)"
        for progress in report.progress.values()
    ]
    typer.echo("  ".join(parts), err=True)


async def _rebuild(settings: StocktakingSettings, switch: bool) -> RebuildReport:
    from wsis_stocktaking.adapters.catalogue import INDEXES
    from wsis_stocktaking.app import SERVICE
    from wsis_stocktaking.entrypoints.consumers import handlers

    async with SERVICE.open_resources(settings) as resources:
        return await rebuild_projection(
            handlers,
            client=resources.mongo,
            db=resources.db,
            collections=CATALOGUE_COLLECTIONS,
            indexes=INDEXES,
            bootstrap=settings.kafka_bootstrap,
            topic_prefix=settings.topic_prefix,
            on_progress=_print_progress,
            switch=switch,
        )


@projections.command()
def rebuild(
    switch: Annotated[
        bool,
        typer.Option(help="make the rebuilt catalogue live (--no-switch: build it aside only)"),
    ] = True,
) -> None:
    """Replay every topic from the beginning into a fresh catalogue and switch over.

    Stop the stocktaking workers first (the public API keeps serving the old catalogue until
    the switch); start them again afterwards: they continue where the replay stopped."""
    from wsis_stocktaking.app import SERVICE

    try:
        report = run_operator_command(SERVICE, lambda settings: _rebuild(settings, switch))
    except ConsumerGroupBusy as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"replayed {report.applied_events:,} events in {report.seconds:.1f}s"
        f" ({report.skipped_poison} undecodable skipped: they were dead-lettered when they came);"
        + (" the rebuilt catalogue is live" if report.switched else " built aside, not switched")
    )
