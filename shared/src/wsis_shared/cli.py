"""Operator commands: `python -m wsis_shared token|topics|dlq …`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaError

from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import TOPICS
from wsis_shared.messaging import ensure_topics, list_dead_letters, replay_dead_letters
from wsis_shared.vocabulary import Role

cli = typer.Typer(help="WSIS platform operations.", no_args_is_help=True)
dlq = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)
cli.add_typer(dlq, name="dlq")

Bootstrap = Annotated[str, typer.Option(envvar="WSIS_KAFKA_BOOTSTRAP")]
Prefix = Annotated[str, typer.Option(envvar="WSIS_TOPIC_PREFIX")]


def _known_topic(topic: str) -> str:
    if topic not in TOPICS:
        raise typer.BadParameter(f"{topic!r} is not a platform topic; one of: {', '.join(TOPICS)}")
    return topic


TopicName = Annotated[str, typer.Option(help=f"one of: {', '.join(TOPICS)}", callback=_known_topic)]
T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T], bootstrap: str) -> T:
    """On-call's mistakes and outages as one line and exit status 2, like `tally` and
    `projections`: a broker out of reach, a topic that does not exist under this prefix."""
    try:
        return asyncio.run(work)
    except KafkaError as exc:
        typer.echo(f"cannot reach Kafka at {bootstrap} (WSIS_KAFKA_BOOTSTRAP): {exc}", err=True)
    except LookupError as exc:
        typer.echo(f"{exc} (check --prefix / WSIS_TOPIC_PREFIX)", err=True)
    raise typer.Exit(2)


def _default_keys_dir() -> Path:
    return Path(os.environ.get("WSIS_CACHE_DIR", ".cache")) / "dev-keys"


@cli.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="repeat for several roles")],
    subject: Annotated[str, typer.Option("--sub")] = "dev-user",
    organisation: Annotated[str | None, typer.Option("--org")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    keys_dir: Annotated[Path | None, typer.Option(help="default: $WSIS_CACHE_DIR/dev-keys")] = None,
    ttl_s: int = 12 * 3600,
) -> None:
    """Print a development JWT signed by the local dev key (never used in production)."""
    private_key, _ = ensure_dev_keys(keys_dir or _default_keys_dir())
    typer.echo(
        sign_dev_token(
            private_key.read_bytes(),
            subject=subject,
            roles=role,
            organisation_id=organisation,
            name=name,
            audience=os.environ.get("WSIS_JWT_AUDIENCE", "wsis"),
            issuer=os.environ.get("WSIS_JWT_ISSUER", "wsis-dev"),
            ttl_s=ttl_s,
        )
    )


@cli.command()
def topics(bootstrap: Bootstrap = "127.0.0.1:9092", prefix: Prefix = "") -> None:
    """Create every topic (and its .dlq) that does not exist yet."""
    created = _run(ensure_topics(bootstrap, prefix), bootstrap)
    typer.echo("\n".join(created) if created else "all topics exist")


@dlq.command("list")
def dlq_list(
    topic: TopicName, bootstrap: Bootstrap = "127.0.0.1:9092", prefix: Prefix = ""
) -> None:
    """Print the dead letters of TOPIC, one JSON object a line."""
    for letter in _run(list_dead_letters(bootstrap, f"{prefix}{topic}.dlq"), bootstrap):
        typer.echo(letter.to_json())


@dlq.command("replay")
def dlq_replay(
    topic: TopicName,
    bootstrap: Bootstrap = "127.0.0.1:9092",
    prefix: Prefix = "",
    include_poison: bool = False,
) -> None:
    """Send TOPIC's not-yet-replayed dead letters back to TOPIC (after fixing the cause)."""
    replayed = _run(
        replay_dead_letters(bootstrap, f"{prefix}{topic}.dlq", prefix, include_poison), bootstrap
    )
    for letter in replayed:
        typer.echo(letter.to_json())
    typer.echo(f"replayed {len(replayed)} dead letter(s)", err=True)
