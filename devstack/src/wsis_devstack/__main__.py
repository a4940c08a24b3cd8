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
    """Only Kafka (9092) and MongoDB (27017), for running services by hand; Ctrl-C stops."""
    from wsis_devstack.kafka import KafkaServer
    from wsis_devstack.mongodb import MongoServer

    cache = cache_dir()
    mongo, kafka = MongoServer(cache, 27017), KafkaServer(cache, 9092, 9093)
    mongo.start()
    try:
        kafka.start()
        typer.echo(f"kafka {kafka.bootstrap}   mongodb {mongo.uri}   (Ctrl-C stops)")
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        while kafka.process.running() and mongo.process.running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        kafka.stop()
        mongo.stop()


cli()
