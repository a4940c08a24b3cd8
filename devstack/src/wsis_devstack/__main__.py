"""`python -m wsis_devstack ensure-tools | infra | up`."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from wsis_devstack.paths import cache_dir
from wsis_devstack.platform import StartupFailed, run_platform
from wsis_devstack.tools import ensure_tools

cli = typer.Typer(help="The local WSIS stack: real Kafka, real MongoDB, the four services.")


@cli.command("ensure-tools")
def ensure_tools_command() -> None:
    """Install Java 17 and Maven from the system's packages if missing."""
    installed = ensure_tools()
    if installed:
        typer.echo(f"installed: {', '.join(installed)}")


@cli.command()
def up(demo: Annotated[bool, typer.Option(help="load the demo data")] = True) -> None:
    """Start everything, load demo data, print the URLs; Ctrl-C stops it all."""
    try:
        run_platform(cache_dir(), demo=demo)
    except StartupFailed as exc:
        typer.echo(f"make up failed: {exc}", err=True)
        raise typer.Exit(1) from exc


@cli.command()
def infra() -> None:
    """Only Kafka (9092) and MongoDB (27017), data kept in .cache/; Ctrl-C stops both."""
    from wsis_devstack.infrastructure import KAFKA_PORT, MONGO_PORT, LocalStack

    # Ctrl-C and SIGTERM both stop cleanly (also when started with SIGINT ignored, as `&` does).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with LocalStack.run(cache_dir(), kafka_port=KAFKA_PORT, mongo_port=MONGO_PORT) as stack:
            typer.echo(
                f"kafka {stack.kafka_bootstrap}   mongodb {stack.mongo_uri}   "
                f"(up in {stack.startup_s:.1f}s; Ctrl-C stops)"
            )
            while stack.kafka.running() and stack.mongo.running():
                time.sleep(0.5)
            typer.echo("a server exited unexpectedly:", err=True)
            typer.echo(stack.kafka.log_tail() + stack.mongo.log_tail(), err=True)
            raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("stopped.")
    except RuntimeError as exc:
        typer.echo(f"infra failed: {exc}", err=True)
        raise typer.Exit(1) from exc


if __name__ == "__main__":
    cli()
