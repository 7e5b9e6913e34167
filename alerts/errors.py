"""The alerts package's exceptions."""

from reputation.errors import ReputationError


class AlertsError(ReputationError):
    """Base of the errors the alerts package raises on purpose."""


class RequestRejected(AlertsError):
    """A request to the interactivity endpoint that must not be acted on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
