"""What each answer of a vendor API means, declared per stream as data.

A stream lists :class:`Answer` rows (``VendorStream.meanings``); the base stream finds the
first row that matches a response and acts on its meaning, in one place
(``VendorStream.validate_response`` and ``parse_response``). A tap that meets a new kind
of answer adds a row, not an override. Rows the stream does not list fall through to
:data:`DEFAULT_ANSWERS`: 429 and 5xx are retried, any other 4xx fails its partition (the
run reads the others), the rest is read.

Texts (``say``) are ``str.format`` templates with these fields: ``stream``, ``vendor``,
``status``, ``where`` (the partition), ``reason`` (the vendor's own words, if any),
``path``, each key of the partition and each setting that is not secret.
"""

from __future__ import annotations

import enum
import re
import typing as t
from dataclasses import dataclass

from singer_sdk.exceptions import FatalAPIError

if t.TYPE_CHECKING:
    import requests


#: Bytes of a body that ``Body`` kinds look at.
SAMPLE_BYTES = 64 * 1024


class Means(enum.Enum):
    """What an answer means for the request and its partition."""

    #: Data: the body is parsed and its rows read.
    READ = "read"
    #: A transient failure: retried with tap_common.retry's waits, then fatal.
    RETRY = "retry"
    #: The vendor's rate limit: the stream's ``throttled`` hook pauses, then retried.
    THROTTLED = "throttled"
    #: The session ended: log in again (``VendorStream.log_in_again``) and send it again;
    #: a fresh session refused too stops the run, with ``say`` as the hint.
    LOG_IN_AGAIN = "log in again"
    #: A forward-only cursor is lost (an expired scroll id): no rows from this answer,
    #: and the paginator reads the partition again from its start (or ends it).
    RESTART_SCROLL = "restart scroll"
    #: Nothing to read here (a parent deleted after it was listed): ``say`` is warned,
    #: and the run goes on with the next partition.
    SKIP = "skip"
    #: The vendor's way of saying "no rows" (an empty body): ``say`` is logged (info).
    NO_ROWS = "no rows"
    #: The request cannot succeed as configured: its partition fails (the whole run stops
    #: with ``whole_run``), ``say`` is the hint.
    STOP = "stop"


class Body(enum.Enum):
    """Kinds of body a row may require besides the status."""

    #: Nothing but whitespace.
    EMPTY = "empty"
    #: An HTML page (Content-Type text/html, or the body opens with an HTML tag).
    HTML = "html"
    #: An HTML page with a password field: a web sign-in page, not an API answer.
    SIGN_IN_PAGE = "sign-in page"


@dataclass(frozen=True)
class Answer:
    """One row: which answers it matches, and what they mean."""

    means: Means
    #: A status, or several: a tuple or a range (``range(500, 600)``).
    status: int | tuple[int, ...] | range
    #: Only for a page after the first of a scroll (True) or for a first page (False).
    later_page: bool | None = None
    #: Only for a request whose path ends with this.
    path_endswith: str | None = None
    #: Only for a body of this kind.
    body: Body | None = None
    #: The warning (SKIP), info (NO_ROWS) or hint (STOP, LOG_IN_AGAIN) for this answer.
    say: str = ""
    #: STOP only: no other partition can succeed either (credentials refused), so the run
    #: stops at once; otherwise this partition fails and the run goes on with the others.
    whole_run: bool = False

    def matches(
        self, response: requests.Response, *, later_page: bool, sample: bytes | None = None
    ) -> bool:
        """Whether ``response`` (of a later page of a scroll or not) is this answer;
        ``sample``: the opening of a streamed body, read elsewhere."""
        statuses = (self.status,) if isinstance(self.status, int) else self.status
        if response.status_code not in statuses:
            return False
        if self.later_page is not None and self.later_page != later_page:
            return False
        if self.path_endswith is not None:
            path = (response.url or "").split("?", 1)[0]
            if not path.endswith(self.path_endswith):
                return False
        return self.body is None or body_is(response, self.body, sample)


#: A password field: what makes an HTML page a sign-in page.
_PASSWORD_FIELD = re.compile(rb"<input[^>]*\btype\s*=\s*[\"']?password", re.IGNORECASE)


def body_is(response: requests.Response, kind: Body, sample: bytes | None = None) -> bool:
    """Whether the body of ``response`` is of ``kind``. A streamed body is judged by
    ``sample`` (its opening, read elsewhere) or else by its headers alone: reading it here
    would consume it."""
    consumed = getattr(response, "_content_consumed", True)
    if kind is Body.EMPTY:
        return not response.content.strip() if consumed else sample == b""
    if sample is None and consumed:
        sample = response.content[:SAMPLE_BYTES]
    opening = (sample or b"").lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    html = "text/html" in response.headers.get("Content-Type", "").lower() or (
        opening.startswith((b"<!doctype html", b"<html"))
    )
    if kind is Body.HTML:
        return html
    return html and sample is not None and _PASSWORD_FIELD.search(sample) is not None


#: What every stream's answers fall through to.
DEFAULT_ANSWERS = (
    Answer(Means.THROTTLED, 429),
    Answer(Means.RETRY, range(500, 600)),
    Answer(Means.STOP, range(400, 500)),
    Answer(Means.READ, range(400)),
)

#: The row a stream with ``vanished_parent`` adds for a 404.
VANISHED_PARENT = (
    "{stream}: {vendor} answered 404 for {where}; the {parent} was probably deleted after "
    "the {parent} list was read. Skipping it."
)


class SessionEndedError(FatalAPIError):
    """The vendor ended the session (LOG_IN_AGAIN): the request is sent again after a
    new login (``VendorStream.request_decorator``). Not a retried error: a new login is
    no backoff; should it escape that loop, it is fatal like any FatalAPIError."""

    def __init__(self, message: str, response: requests.Response | None, hint: str) -> None:
        super().__init__(message)
        self.response = response
        self.hint = hint


class SafeFields(dict):
    """Template fields; a field a template names but the answer lacks reads '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


def render(template: str, fields: t.Mapping[str, t.Any]) -> str:
    """``template`` with ``fields`` filled in (missing ones read '?')."""
    return template.format_map(SafeFields(fields))
