"""The HTTP session every request of every tap goes through.

Two rules that requests does not apply by itself:

- A redirect to another host is refused, never followed: a login body (Rev's API key and
  secret), an Authorization header or a query string (Webcasts.com's password and session
  ids) would travel to that host.
- ``timeout`` is a deadline for the whole response, not for each read: a server that sends
  one byte a second cannot hold a request past it. Streamed downloads (``stream=True``)
  read at their own pace and keep requests' per-read timeout.
"""

from __future__ import annotations

import os
import threading
import time
import typing as t
from urllib.parse import urlsplit

import requests
from requests.exceptions import (
    ChunkedEncodingError,
    ContentDecodingError,
    ReadTimeout,
)
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

#: Bytes read per step while a body is read against its deadline.
READ_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossHostRedirectError(FatalAPIError):
    """The API redirected a request to another host."""


def _origin(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)


class VendorSession(requests.Session):
    """A requests session that refuses cross-host redirects and reads within a deadline.

    ``answered`` is set by the first response of any status: the host is reachable, so a
    connection that fails later is a fault worth retrying.
    """

    def __init__(self, answered: threading.Event | None = None) -> None:
        super().__init__()
        self.answered = answered if answered is not None else threading.Event()
        # requests reads REQUESTS_CA_BUNDLE in Session.request only; the SDK sends pages
        # with Session.send, so the bundle an operator names must be the session's own.
        # An empty value means "not set", never "do not verify".
        self.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )

    @override
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        location = requests.compat.urljoin(resp.url, target)
        downgrade = urlsplit(resp.url).scheme == "https" and urlsplit(location).scheme == "http"
        if downgrade or _origin(location)[0] != _origin(resp.url)[0]:
            msg = (
                f"the API answered HTTP {resp.status_code} with a redirect to another host "
                f"({urlsplit(location).hostname or 'unknown'}); it is not followed, so no "
                "credential travels there. Check the 'base_url' setting: use the address the "
                "API redirects to if you trust it."
            )
            raise CrossHostRedirectError(msg)
        return target

    @override
    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        streamed = kwargs.get("stream", False)
        seconds = _total_seconds(kwargs.get("timeout"))
        if streamed or seconds is None:
            response = super().send(request, **kwargs)
        else:
            deadline = time.monotonic() + seconds
            response = super().send(request, **{**kwargs, "stream": True})
            read_before(response, deadline, seconds)
        self.answered.set()
        return response


def _total_seconds(timeout: t.Any) -> float | None:
    """The deadline of a request from its requests ``timeout`` (a number or a pair)."""
    if isinstance(timeout, tuple):
        timeout = timeout[-1]
    return float(timeout) if isinstance(timeout, int | float) else None


def read_before(response: requests.Response, deadline: float, seconds: float) -> None:
    """Read the whole body of ``response``, or raise ReadTimeout once ``deadline`` passes.

    What requests does for a body that is not streamed, with the clock checked after each
    read; each read still waits at most the per-read timeout.
    """
    chunks = []
    try:
        for chunk in response.raw.stream(READ_CHUNK, decode_content=True):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                response.close()
                msg = f"the whole response did not arrive within {seconds:g} s"
                raise ReadTimeout(msg, request=response.request)
    except ProtocolError as exc:
        raise ChunkedEncodingError(exc) from None
    except ReadTimeoutError as exc:
        raise ReadTimeout(exc, request=response.request) from None
    except DecodeError as exc:
        raise ContentDecodingError(exc) from None
    response._content = b"".join(chunks)  # what Response.content caches
    response._content_consumed = True  # type: ignore[attr-defined]


def new_session(answered: threading.Event | None = None) -> VendorSession:
    """The session for a tap's requests, logins included; ``answered`` is the run's flag
    (``VendorRun.answered``) shared by all its sessions."""
    return VendorSession(answered)
