"""Measurement harness, run from the repository (`python -m evals.NAME`); not shipped in the package."""
