"""Local simulators of the vendor APIs (used by tests, benchmarks and the demo).

Only the standard library is used. ``python -m sandbox --help`` shows the CLI.
"""

from .cast import CastAPI, CastDataset, start_cast_sandbox
from .faults import FAULT_KINDS, FaultConfig
from .rev import RevAPI, RevDataset, start_rev_sandbox
from .server import RequestRecord, SandboxRequest, SandboxResponse, SandboxServer
from .webcasts import WebcastsAPI, WebcastsDataset, start_webcasts_sandbox

__all__ = [
    "FAULT_KINDS",
    "CastAPI",
    "CastDataset",
    "FaultConfig",
    "RequestRecord",
    "RevAPI",
    "RevDataset",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "WebcastsAPI",
    "WebcastsDataset",
    "start_cast_sandbox",
    "start_rev_sandbox",
    "start_webcasts_sandbox",
]
