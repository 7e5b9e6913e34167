"""Platform connectors. Each module turns one platform's API into `Mention`s.

A connector is registered under the `reputation.connectors` entry-point group
in pyproject.toml; the core finds it there.
"""
