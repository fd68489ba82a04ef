"""Vbrick Rev webcast reports API simulator.

Seeded dataset (:class:`RevDataset`) and routing (:class:`RevAPI`).

Modelled on Vbrick's webcast reports documentation, its official OpenAPI specification
(the webcast and auth endpoints, Rev 8.1) and its official JS client, as summarised in
docs/vendor-notes.md (the Rev sections). The served object shapes come from ``data/fixtures/rev``
(keys and key order are copied from them, see its README). Behaviour the documents do not
cover is marked ``ASSUMPTION`` where it is implemented.

Time: every expiry (tokens, scroll ids) and every rate-limit window is measured with
``RevAPI.clock`` (``time.time`` by default), so tests can share a fake clock with the tap
and cover minutes of API time in milliseconds.
"""

from .api import ApiCall, RevAPI, start_rev_sandbox
from .cli import (
    add_rev_api_args,
    add_rev_dataset_args,
    add_rev_truth_args,
    rev_app_from_args,
    rev_dataset_from_args,
    rev_truth_from_args,
)
from .common import (
    DEFAULT_API_KEY,
    DEFAULT_NOW,
    DEFAULT_PASSWORD,
    DEFAULT_RATE_LIMITS,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    LAST_PAGE_VARIANTS,
    LIVE_STATUSES,
    REPORT_ENDPOINTS,
    REPORT_PAGE_SIZE,
    STREAMS,
    iso,
    load_fixtures,
    parse_iso,
    timespan,
)
from .dataset import RevDataset
from .model import Webcast

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_NOW",
    "DEFAULT_PASSWORD",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_SECRET",
    "DEFAULT_USERNAME",
    "LAST_PAGE_VARIANTS",
    "LIVE_STATUSES",
    "REPORT_ENDPOINTS",
    "REPORT_PAGE_SIZE",
    "STREAMS",
    "ApiCall",
    "RevAPI",
    "RevDataset",
    "Webcast",
    "add_rev_api_args",
    "add_rev_dataset_args",
    "add_rev_truth_args",
    "iso",
    "load_fixtures",
    "parse_iso",
    "rev_app_from_args",
    "rev_dataset_from_args",
    "rev_truth_from_args",
    "start_rev_sandbox",
    "timespan",
]
