"""`python -m reputation` runs the command line."""

from reputation.cli.app import entrypoint

entrypoint()
