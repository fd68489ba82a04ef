"""Cast.app Analytics API: the run object and the base stream (auth, errors, paging)."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from urllib.parse import urlsplit

from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_common.answers import Answer, Means
from tap_common.errors import VendorDataError, partition_label
from tap_common.run import VendorRun
from tap_common.secrets import redact
from tap_common.stream import VendorStream

if t.TYPE_CHECKING:
    import requests


class CastRun(VendorRun):
    """What the streams of one tap-cast run share."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        super().__init__(config)
        #: cast id -> raw campaign list, requested once (see CampaignsStream.campaign_list)
        self.campaign_lists: dict[int, list[dict]] = {}


def unique_cast_ids(config: t.Mapping[str, t.Any]) -> list[int]:
    """The configured cast ids, each once, in order: a cast listed twice is read once."""
    return list(dict.fromkeys(config["cast_ids"]))


# Keys of the error objects web APIs answer ({"detail": ...} is Django REST framework's).
# An object made of these keys alone is an error, never data: no Cast body has only them.
ERROR_KEYS = frozenset({"detail", "error", "errors", "message", "non_field_errors"})
ERROR_DETAIL_KEYS = frozenset({"code", "status", "status_code", "type"})
#: Characters of a vendor error object quoted in a message.
QUOTED_ERROR_CHARS = 200


def is_error_object(body: t.Any) -> bool:
    """Whether a parsed body is an error object (``{"detail": "Invalid token."}``)."""
    if not isinstance(body, dict) or not body:
        return False
    keys = {str(key).lower() for key in body}
    return bool(keys & ERROR_KEYS) and keys <= ERROR_KEYS | ERROR_DETAIL_KEYS


class CastStream(VendorStream[CastRun]):
    """A Cast.app endpoint under ``{base_url}/designer/{org_slug}/api``."""

    vendor_name = "Cast"

    @property
    @override
    def url_base(self) -> str:
        return f"{self.config['base_url'].rstrip('/')}/designer/{self.config['org_slug']}/api"

    @cached_property
    @override
    def authenticator(self) -> APIKeyAuthenticator:
        # The raw key goes verbatim in Authorization (no "Bearer"); the documented sample
        # key contains $ # ! &, which headers carry as they are.
        return APIKeyAuthenticator(key="Authorization", value=self.config["api_key"])

    @override
    def get_new_paginator(self) -> None:
        return None  # single-page endpoints unless a stream says otherwise

    meanings = (
        Answer(
            Means.STOP,
            (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN),
            say="Cast rejected the API key for org '{org_slug}' (HTTP {status}). Check the "
            "'api_key' and 'org_slug' settings: the key is issued per org by support@cast.app.",
            whole_run=True,
        ),
        Answer(
            Means.STOP,
            HTTPStatus.NOT_FOUND,
            say="Cast answered 404 for stream '{stream}' ({where}): org '{org_slug}' or that "
            "cast does not exist. Check the 'org_slug' and 'cast_ids' settings against the "
            "Designer URL cast.app/designer/<org_slug>/cast/<cast_id>/...",
        ),
    )

    @override
    def error_in_body(self, body: t.Any, response: requests.Response) -> str | None:
        """An error object answered with 200 (``{"detail": "Invalid token."}``)."""
        if not is_error_object(body):
            return None
        quoted = redact(json.dumps(body, ensure_ascii=False))[:QUOTED_ERROR_CHARS]
        path = urlsplit(response.url).path if response.url else self.path
        return (
            f"Cast answered {path} with HTTP {response.status_code} and an error object "
            f"instead of data: {quoted} (stream '{self.name}', "
            f"{partition_label(self.partition)}). It is not read as 'no rows'; if it "
            "persists, check the 'api_key' and 'org_slug' settings"
        )


@dataclass(frozen=True)
class CastPage:
    """One answer of a paged endpoint, whatever envelope it came in."""

    results: list
    #: The vendor's total across pages; None when the answer has none (a bare list).
    count: int | None


#: Envelope keys, compared without case and underscores (``PageSize``, ``page_size``).
ENVELOPE_KEYS = ("count", "page", "pagesize", "results")


def read_page(body: t.Any) -> CastPage:
    """The ``{count, page, page_size, results}`` envelope, or the variants that say the
    same without doubt: PascalCase keys, ``results: null`` for no rows, a bare list of
    rows. Anything else raises VendorDataError: it is never read as an empty page."""
    if isinstance(body, list):
        return CastPage(results=body, count=None)
    if not isinstance(body, dict):
        msg = f"expected the {{count, page, page_size, results}} envelope, got {_shape(body)}"
        raise VendorDataError(msg)
    envelope: dict[str, t.Any] = {}
    for key, value in body.items():
        name = str(key).lower().replace("_", "")
        if name in envelope:
            msg = f"the envelope holds '{name}' twice, in different spellings ({sorted(body)})"
            raise VendorDataError(msg)
        envelope[name] = value
    if "results" not in envelope:
        msg = f"expected the {{count, page, page_size, results}} envelope, got keys {sorted(body)}"
        raise VendorDataError(msg)
    results = envelope["results"]
    if results is None:
        results = []  # null where the list belongs: no rows
    if not isinstance(results, list):
        msg = f"the envelope's results are {_shape(results)}, not a list"
        raise VendorDataError(msg)
    return CastPage(results=results, count=_count(envelope.get("count")))


def _count(value: t.Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    msg = f"the envelope's count is {value!r}, not a number of rows"
    raise VendorDataError(msg)


def _shape(value: t.Any) -> str:
    return "null" if value is None else f"a JSON {type(value).__name__}"


class PageRequest(t.NamedTuple):
    """The page to ask for: its number, counted in pages of ``size`` rows."""

    number: int
    size: int


class CastPagePaginator(BaseAPIPaginator[PageRequest]):
    """Page-number paging by what the server actually returns.

    The page size a server serves may differ from the one asked for, whatever its envelope
    says (a cap echoing the requested size, or no ``page_size`` at all), so the envelope's
    ``page_size`` is not used. A page of another size than asked, before the end, is the
    server's page size: from then on pages are asked in that size, numbered so that the next
    page starts at the first row not read yet.

    Reading ends on an empty page or on a short page once ``count`` rows are read. A full
    page is always followed by another request, so a count below what the server holds
    never ends paging. A page that repeats an earlier one (a server that ignores ``page``),
    and the comparison of the rows read with the count, are the stream's reconciled read
    (tap_common/reconcile.py).
    """

    def __init__(self, stream: CastStream, page_size: int) -> None:
        super().__init__(PageRequest(1, page_size))
        self.stream = stream
        self.rows_read = 0
        #: The vendor's count on the latest page that had one.
        self.vendor_count: int | None = None
        #: Paging ended before the end on purpose (NewestFirstPaginator's early stop).
        self.stopped_early = False
        #: The partition answered 404: its campaign was deleted (warned and skipped).
        self.vanished = False
        self._next: PageRequest | None = None
        self._warned_count = False

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # Called for a page without rows, or a 404 the stream skipped: paging ends there.
        self.vanished = response.status_code == HTTPStatus.NOT_FOUND
        return False

    @override
    def has_more(self, response: requests.Response) -> bool:
        rows = self.stream.parsed_body(response).results
        self.rows_read += len(rows)
        count = self.stream.parsed_body(response).count
        if count is not None:
            self.vendor_count = count
            self._warn_if_understated(count)
        self._next = self._next_request(len(rows))
        return self._next is not None

    @override
    def get_next(self, response: requests.Response) -> PageRequest | None:
        return self._next

    def _next_request(self, served: int) -> PageRequest | None:
        asked = self.current_value
        if served == asked.size:
            return PageRequest(asked.number + 1, asked.size)  # a full page: ask on
        if self.vendor_count is not None and self.rows_read >= self.vendor_count:
            return None  # a short page, and the count is reached: the end
        # Before the end, pages of `served` rows: the server's page size. Asked in that
        # size, page n starts at row (n - 1) * served, whichever size the server numbers
        # pages in; if no page of that size starts at the next row, this pass ends and
        # the count says whether rows are missing.
        if self.rows_read % served:
            return None
        return PageRequest(self.rows_read // served + 1, served)

    def _warn_if_understated(self, count: int) -> None:
        if self._warned_count or self.rows_read <= count:
            return
        self._warned_count = True
        self.stream.logger.warning(
            "%s: Cast reported count=%d after %d rows for %s; reading on until a short "
            "page instead of trusting it.",
            self.stream.name,
            count,
            self.rows_read,
            partition_label(self.stream.partition),
        )
