"""The connector test kit: a platform's fake API (`fake`) and the conformance suite (`contract`).

It imports from the core only the records and the connector seam, like every connector.
"""

from connectors.testing.contract import Collected, CollectIntoStore, ConnectorContract, Run
from connectors.testing.fake import BRAND, FAULTS, FakePlatform, Reply, Request

__all__ = [
    "BRAND",
    "FAULTS",
    "CollectIntoStore",
    "Collected",
    "ConnectorContract",
    "FakePlatform",
    "Reply",
    "Request",
    "Run",
]
