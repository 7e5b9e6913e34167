"""Reputation monitor: catch an angry customer's post early and hand it to a person."""

__version__ = "0.1.0"
