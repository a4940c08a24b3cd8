"""Running a service: its resources (MongoDB, outbox), its worker (outbox relay
and consumers) and the `python -m wsis_<name> api|worker|all` command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar

import typer
from aiokafka.errors import KafkaConnectionError, KafkaError
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import ConnectionFailure

from wsis_shared.auth import token_verifier
from wsis_shared.logging import configure_logging, get_logger
from wsis_shared.messaging import (
    INBOX_INDEXES,
    OUTBOX_INDEXES,
    ConsumerRunner,
    Handlers,
    Outbox,
    OutboxRelay,
    ensure_topics,
)
from wsis_shared.mongo import Database, Document, Session, create_client, ensure_indexes
from wsis_shared.mongo import in_transaction as _in_transaction
from wsis_shared.settings import ConfigurationError, ServiceSettings, read_settings
from wsis_shared.tracing import configure_tracing

if TYPE_CHECKING:
    from fastapi import FastAPI

log = get_logger(__name__)
T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)

Indexes = Mapping[str, Sequence[IndexModel]]
RetiredIndexes = Mapping[str, Sequence[str]]  # collection -> names of indexes to drop
_LEASE_INDEXES: Indexes = {"leases": [IndexModel([("expires_at", ASCENDING)])]}


@dataclass
class Resources:
    """What a running service holds open; created once per process in the lifespan."""

    settings: ServiceSettings
    mongo: AsyncMongoClient[Document]
    db: Database
    outbox: Outbox

    async def transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        return await _in_transaction(self.mongo, work)


@asynccontextmanager
async def open_resources(
    settings: ServiceSettings, indexes: Indexes, retired_indexes: RetiredIndexes | None = None
) -> AsyncIterator[Resources]:
    client = create_client(settings.mongo_uri, app_name=f"wsis-{settings.service_name}")
    try:
        db = client[settings.mongo_database]
        await ensure_indexes(
            db,
            {**OUTBOX_INDEXES, **INBOX_INDEXES, **_LEASE_INDEXES, **indexes},
            retired_indexes,
        )
        yield Resources(
            settings=settings,
            mongo=client,
            db=db,
            outbox=Outbox(db, source=f"/wsis/{settings.service_name}"),
        )
    finally:
        await client.close()


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """Everything the runtime needs to know about a service."""

    name: str
    settings_type: type[S]
    create_app: Callable[[S], FastAPI]
    indexes: Indexes
    consumers: Sequence[Handlers] = field(default_factory=tuple)
    # Other loops of the worker (a scheduler, say): each runs until the event is set.
    tasks: Sequence[Callable[[Resources, asyncio.Event], Awaitable[None]]] = field(
        default_factory=tuple
    )
    # Indexes an earlier version created and this one no longer wants: dropped at start-up.
    retired_indexes: RetiredIndexes = field(default_factory=dict)

    def open_resources(
        self, settings: ServiceSettings
    ) -> contextlib.AbstractAsyncContextManager[Resources]:
        return open_resources(settings, self.indexes, self.retired_indexes)


YOUNG_OBJECTS_BEFORE_A_COLLECTION: Final = 10_000


def settle_garbage_collector() -> None:
    """Once started, a service process (an API or a worker) changes two things in Python's
    garbage collector, both measured in the vote storm (docs/benchmarks.md):

    - What the process holds once started (modules, the app, its routes and models: about
      100,000 objects) moves out of the collector's reach (`gc.freeze`), so that a full
      collection walks only what requests and events left since. Without it each voting API
      process stopped for 70–270 ms every second or so, all its requests waiting. Startup objects
      live as long as the process, so freezing them frees nothing that would otherwise have been
      freed (the young garbage is collected just before).
    - The youngest generation is collected after 10,000 new container objects instead of
      Python's 700. A request makes hundreds of short-lived ones (dicts, coroutines, models)
      that reference counting frees anyway; at 700 the voting API collected ~190 times a second
      (2.5 s of collections in a 28-s storm), at 10,000 some 40 times in all, and its CPU per
      vote fell by a sixth. Garbage in reference cycles waits a little longer, at most 10,000
      objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_A_COLLECTION, *gc.get_threshold()[1:])


async def create_topics_when_broker_is_up(settings: ServiceSettings, stop: asyncio.Event) -> None:
    backoff = 0.5
    while not stop.is_set():
        try:
            await ensure_topics(settings.kafka_bootstrap, settings.topic_prefix)
            return
        except (KafkaError, OSError) as exc:
            log.warning("kafka.topics.retrying", error=repr(exc), backoff_s=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 5.0)


async def run_worker(
    definition: ServiceDefinition[Any], settings: ServiceSettings, stop: asyncio.Event
) -> None:
    """The outbox relay and every consumer of the service, until `stop` is set."""
    await create_topics_when_broker_is_up(settings, stop)
    async with definition.open_resources(settings) as resources:
        relay = OutboxRelay(
            resources.db,
            service=settings.service_name,
            bootstrap=settings.kafka_bootstrap,
            topic_prefix=settings.topic_prefix,
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        runners = [
            ConsumerRunner(
                handlers,
                client=resources.mongo,
                db=resources.db,
                outbox=resources.outbox,
                bootstrap=settings.kafka_bootstrap,
                topic_prefix=settings.topic_prefix,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff_s=settings.consumer_retry_backoff_s,
            )
            for handlers in definition.consumers
        ]
        log.info("worker.started", consumers=[r.group_id for r in runners])
        settle_garbage_collector()
        await asyncio.gather(
            relay.run(stop),
            *(runner.run(stop) for runner in runners),
            *(task(resources, stop) for task in definition.tasks),
        )
    log.info("worker.stopped")


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


_DEFINITION_ENV = "WSIS_SERVICE_DEFINITION"


def app_from_environment() -> FastAPI:
    """The app of the service named by WSIS_SERVICE_DEFINITION (`module:SERVICE`), for uvicorn's
    worker processes, which import the app rather than receive it."""
    module_name, _, attribute = os.environ[_DEFINITION_ENV].partition(":")
    definition: ServiceDefinition[Any] = getattr(importlib.import_module(module_name), attribute)
    return definition.create_app(_load_settings(definition))


def _load_settings(definition: ServiceDefinition[S]) -> S:
    """The service's settings from the environment, with logging and tracing set up by them."""
    settings = read_settings(definition.settings_type)
    configure_logging(definition.name, settings.log_format, settings.log_level)
    configure_tracing(definition.name, settings.otlp_endpoint)
    return settings


def _exit_explained(definition: ServiceDefinition[Any], reason: str) -> NoReturn:
    typer.echo(f"wsis_{definition.name}: {reason}", err=True)
    raise typer.Exit(2)


def load_settings_or_exit(definition: ServiceDefinition[S], *, checks_tokens: bool = False) -> S:
    """The settings of a command; what to fix in the environment as one line on stderr and exit
    status 2 when they do not configure it (`checks_tokens`: it serves the HTTP API)."""
    try:
        settings = _load_settings(definition)
        if checks_tokens:
            token_verifier(settings)
    except ConfigurationError as exc:
        _exit_explained(definition, f"configuration: {exc}")
    return settings


def run_operator_command(
    definition: ServiceDefinition[S], command: Callable[[S], Coroutine[Any, Any, T]]
) -> T:
    """Runs an operator's command (`tally verify`, `projections rebuild`): an environment that
    does not configure it, or MongoDB or Kafka out of reach, is one line naming what to check
    and exit status 2, not a traceback."""
    settings = load_settings_or_exit(definition)
    try:
        return asyncio.run(command(settings))
    except ConnectionFailure as exc:
        where = re.sub(r"//[^@/]*@", "//", settings.mongo_uri)  # never print a password
        reason = str(exc).split(", Timeout:")[0][:300]
        _exit_explained(definition, f"cannot reach MongoDB at {where} (WSIS_MONGO_URI): {reason}")
    except KafkaConnectionError as exc:
        _exit_explained(
            definition,
            f"cannot reach Kafka at {settings.kafka_bootstrap} (WSIS_KAFKA_BOOTSTRAP): {exc}",
        )


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop where it exists (Linux, macOS): its sockets and callbacks are C code
    rather than Python; asyncio's own loop elsewhere. (`uvicorn.run` with several processes
    picks uvloop by itself; `asyncio.run` would not.)"""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main)


def service_cli(definition: ServiceDefinition[Any]) -> typer.Typer:
    """`python -m wsis_<name> api|worker|all`."""
    import uvicorn

    cli = typer.Typer(help=f"The WSIS {definition.name} service.", no_args_is_help=True)

    def load(*, checks_tokens: bool = False) -> ServiceSettings:
        settings: ServiceSettings = load_settings_or_exit(definition, checks_tokens=checks_tokens)
        return settings

    def server(settings: ServiceSettings) -> uvicorn.Server:
        config = uvicorn.Config(
            definition.create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )
        return uvicorn.Server(config)

    @cli.command()
    def api() -> None:
        """Serve the HTTP API (`WSIS_<NAME>_API_PROCESSES` processes on one port)."""
        settings = load(checks_tokens=True)
        if settings.api_processes <= 1:
            run_event_loop(server(settings).serve())
            return
        # Several processes share the port; each builds its app from the environment.
        os.environ[_DEFINITION_ENV] = f"{definition.create_app.__module__}:SERVICE"
        uvicorn.run(
            f"{__name__}:app_from_environment",
            factory=True,
            workers=settings.api_processes,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )

    @cli.command()
    def worker() -> None:
        """Run the outbox relay and the Kafka consumers."""
        settings = load()
        if settings.worker_metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(settings.worker_metrics_port, addr=settings.host)

        async def main() -> None:
            stop = asyncio.Event()
            _install_stop_signals(stop)
            await run_worker(definition, settings, stop)

        run_event_loop(main())

    @cli.command(name="all")
    def all_in_one() -> None:
        """API and worker in one process (development)."""
        settings = load(checks_tokens=True)

        async def main() -> None:
            stop = asyncio.Event()
            worker_task = asyncio.create_task(run_worker(definition, settings, stop))
            try:
                await server(settings).serve()  # returns on SIGINT/SIGTERM
            finally:
                stop.set()
                await worker_task

        run_event_loop(main())

    return cli
