"""`python -m reputation` runs the command line."""

from reputation.cli import entrypoint

entrypoint()
