from wsis_shared.cli import cli

cli()
