"""Measurement harnesses, run from the repository: `python -m evals.NAME`."""
