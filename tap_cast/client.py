"""Cast.app Analytics API: the run object and the base stream (auth, errors, paging)."""

from __future__ import annotations

import typing as t
from functools import cached_property
from http import HTTPStatus

from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import PageNumberPaginator
from typing_extensions import override

from tap_common.errors import partition_label
from tap_common.run import VendorRun
from tap_common.stream import VendorStream

if t.TYPE_CHECKING:
    import requests


class CastRun(VendorRun):
    """What the streams of one tap-cast run share."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        super().__init__(config)
        #: cast id -> raw campaign list, requested once (see CampaignsStream.campaign_list)
        self.campaign_lists: dict[int, list[dict]] = {}


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

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            msg = (
                f"Cast rejected the API key for org '{self.config['org_slug']}' "
                f"(HTTP {status}). Check the 'api_key' and 'org_slug' settings: the key "
                "is issued per org by support@cast.app."
            )
            raise FatalAPIError(msg)
        if status == HTTPStatus.NOT_FOUND and not self.vanished_parent:
            msg = (
                f"Cast answered 404 for stream '{self.name}' ({partition_label(self.partition)}): "
                f"org '{self.config['org_slug']}' or that cast does not exist. Check the "
                "'org_slug' and 'cast_ids' settings against the Designer URL "
                "cast.app/designer/<org_slug>/cast/<cast_id>/..."
            )
            raise FatalAPIError(msg)
        super().validate_response(response)


class CastPagePaginator(PageNumberPaginator):
    """Page-number paging over the ``{count, page, page_size, results}`` envelope.

    Stops when ``page * page_size >= count`` (count as of the latest page, so a total
    that grows while we page is followed) or on an empty page. A count smaller than the rows
    already received is a lie: from then on paging goes on until a short or empty page, so
    an understated count never drops rows silently.
    """

    def __init__(self, stream: CastStream, page_size: int) -> None:
        super().__init__(start_value=1)
        self.stream = stream
        self.page_size = page_size
        self.rows_seen = 0
        self.count_trusted = True

    @override
    def has_more(self, response: requests.Response) -> bool:
        if response.status_code == HTTPStatus.NOT_FOUND:
            return False
        body = self.stream.parsed_body(response)
        results = body.get("results") or []
        if not results:
            return False
        page_size = int(body.get("page_size") or self.page_size)
        count = int(body.get("count") or 0)
        self.rows_seen += len(results)
        if self.count_trusted and self.rows_seen > count:
            self.count_trusted = False
            self.stream.logger.warning(
                "%s: Cast reported count=%d after %d rows for %s; reading on until a short "
                "page instead of trusting it.",
                self.stream.name,
                count,
                self.rows_seen,
                partition_label(self.stream.partition),
            )
        if not self.count_trusted:
            return len(results) >= page_size
        return self.current_value * page_size < count
