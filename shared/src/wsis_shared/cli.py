"""Operator commands: `python -m wsis_shared token|topics|dlq …`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import TOPICS
from wsis_shared.messaging import ensure_topics, list_dead_letters, replay_dead_letters
from wsis_shared.vocabulary import Role

cli = typer.Typer(help="WSIS platform operations.", no_args_is_help=True)
dlq = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)
cli.add_typer(dlq, name="dlq")

Bootstrap = Annotated[str, typer.Option(envvar="WSIS_KAFKA_BOOTSTRAP")]
Prefix = Annotated[str, typer.Option(envvar="WSIS_TOPIC_PREFIX")]
TopicName = Annotated[str, typer.Option(help=f"one of: {', '.join(TOPICS)}")]


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
    created = asyncio.run(ensure_topics(bootstrap, prefix))
    typer.echo("\n".join(created) if created else "all topics exist")


@dlq.command("list")
def dlq_list(
    topic: TopicName, bootstrap: Bootstrap = "127.0.0.1:9092", prefix: Prefix = ""
) -> None:
    """Print the dead letters of TOPIC, one JSON object a line."""
    for letter in asyncio.run(list_dead_letters(bootstrap, f"{prefix}{topic}.dlq")):
        typer.echo(letter.to_json())


@dlq.command("replay")
def dlq_replay(
    topic: TopicName,
    bootstrap: Bootstrap = "127.0.0.1:9092",
    prefix: Prefix = "",
    include_poison: bool = False,
) -> None:
    """Send TOPIC's not-yet-replayed dead letters back to TOPIC (after fixing the cause)."""
    replayed = asyncio.run(
        replay_dead_letters(bootstrap, f"{prefix}{topic}.dlq", prefix, include_poison)
    )
    for letter in replayed:
        typer.echo(letter.to_json())
    typer.echo(f"replayed {len(replayed)} dead letter(s)", err=True)
