from wsis_shared.runtime import service_cli
from wsis_voting.app import SERVICE
from wsis_voting.entrypoints.cli import tally

cli = service_cli(SERVICE)
cli.add_typer(tally, name="tally")
cli()
