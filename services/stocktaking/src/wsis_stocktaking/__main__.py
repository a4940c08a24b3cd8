from wsis_shared.runtime import service_cli
from wsis_stocktaking.app import SERVICE
from wsis_stocktaking.entrypoints.cli import projections

cli = service_cli(SERVICE)
cli.add_typer(projections, name="projections")
cli()
