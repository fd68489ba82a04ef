"""Webcasts.com Reporting API (v2.0) simulator.

Seeded dataset (:class:`WebcastsDataset`) and routing (:class:`WebcastsAPI`).

Modelled on the vendor's "Reporting API" documentation (help.webcasts.com; our copy is
OCR-mangled: the "audience reports" path is ``audiencereports``, ``users_ga`` is ``users_qa``,
``Si`` is ``si``) and on the older public Reporting API guide and client code. Only the login
sample is public; every other
shape is an assumption kept in ``data/fixtures/webcasts`` (element names, CSV headers), so a real
sample can replace it without code changes. Behaviour the docs do not cover is marked
``ASSUMPTION`` where it is implemented.

Modules: ``common`` (constants, errors, time and XML text helpers), ``pools`` (the values data
is drawn from), ``model`` (events, registrants), ``dataset`` (generation and ground truth),
``query`` (report parameters and filters), ``shapes`` (the fixtures as templates),
``render_xml`` / ``render_json`` / ``render_csv`` (one per format) and ``api`` (routes,
sessions, switches).
"""

from .api import WebcastsAPI, start_webcasts_sandbox
from .common import (
    API_VERSION,
    CONTENT_TYPES,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    ERROR_CODES,
    REPORT_FLAGS,
    REPORT_PARAMS,
    SESSION_TYPES,
    TimeFormatter,
    WebcastsError,
    gmt,
    load_fixtures,
    parse_gmt,
)
from .dataset import PERSONAS, WebcastsDataset
from .model import Event, Persona, Registrant
from .query import ReportQuery

__all__ = [
    "API_VERSION",
    "CONTENT_TYPES",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "ERROR_CODES",
    "PERSONAS",
    "REPORT_FLAGS",
    "REPORT_PARAMS",
    "SESSION_TYPES",
    "Event",
    "Persona",
    "Registrant",
    "ReportQuery",
    "TimeFormatter",
    "WebcastsAPI",
    "WebcastsDataset",
    "WebcastsError",
    "gmt",
    "load_fixtures",
    "parse_gmt",
    "start_webcasts_sandbox",
]
