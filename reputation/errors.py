"""The core's exceptions: one base, a few kinds the CLI turns into clear messages."""


class ReputationError(Exception):
    """Base of every error the core raises on purpose."""


class ConfigError(ReputationError):
    """The configuration file is missing, unreadable or invalid."""


class InputError(ReputationError):
    """An input file (replay, analyze, cascades) is missing or unusable."""


class StoreError(ReputationError):
    """The database cannot be reached or migrated."""


class UnknownSourceError(ReputationError):
    """A source or connector name that nothing provides."""
