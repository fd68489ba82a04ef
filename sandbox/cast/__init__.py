"""Cast.app Analytics API simulator.

Seeded dataset (:class:`CastDataset`) and routing (:class:`CastAPI`).

Modelled on Cast's public "Cast Analytics API" documentation (school.cast.app) and on
third-party notes derived from it. The served object shapes come from the documented samples
in ``data/fixtures/cast`` (keys and key order are copied from them). Behaviour the docs do not
cover is marked ``ASSUMPTION`` where it is implemented.
"""

from .api import CastAPI, start_cast_sandbox
from .common import CROSS_CAMPAIGN_KEYS, DOC_API_KEY, EVENT_TYPES, FIXTURES_DIR, load_fixtures
from .dataset import CastDataset

__all__ = [
    "CROSS_CAMPAIGN_KEYS",
    "DOC_API_KEY",
    "EVENT_TYPES",
    "FIXTURES_DIR",
    "CastAPI",
    "CastDataset",
    "load_fixtures",
    "start_cast_sandbox",
]
