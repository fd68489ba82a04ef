"""Download to a file, then parse: for answers too large to hold in memory.

A stream that reads an answer of gigabytes (a Webcasts.com audience report) streams it to a
file, checks it is whole, then parses the file as a stream: memory stays flat. Each attempt
goes through the stream's retries (``VendorStream.send``) and means what the stream declares
(``answer_to``): by status and headers first, then by the first bytes of the file (a sign-in
page instead of the report). Downloads keep requests' per-read timeout instead of the
whole-answer deadline (tap_common/http.py): a large file legitimately takes long.
"""

from __future__ import annotations

import typing as t
from functools import partial

from singer_sdk.exceptions import RetriableAPIError

from tap_common.answers import SAMPLE_BYTES

if t.TYPE_CHECKING:
    from pathlib import Path

    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.stream import VendorStream

#: Bytes written per step.
CHUNK_BYTES = 1 << 20


#: ``whole(path, framed)``: why the file at ``path`` cannot be the whole answer, or None when
#: it may be; ``framed``: the HTTP framing (Content-Length or chunked) would have shown a cut.
Whole = t.Callable[["Path", bool], "str | None"]


def download(
    stream: VendorStream,
    request: requests.PreparedRequest,
    context: Context | None,
    path: Path,
    *,
    whole: Whole,
    signed: t.Callable[[requests.PreparedRequest], requests.PreparedRequest] | None = None,
) -> bool:
    """Stream the answer to ``request`` into ``path``, with the stream's retries.

    A file that ``whole`` refuses is downloaded again like a 5xx. ``signed``: how the
    request is signed (default: the stream's authenticator). True when the answer had
    Content-Length or chunked framing.
    """
    attempt = partial(_download_once, stream, path=path, whole=whole, signed=signed)
    return bool(stream.send(request, context, attempt=attempt))


def _download_once(
    stream: VendorStream,
    request: requests.PreparedRequest,
    context: Context | None,
    *,
    path: Path,
    whole: Whole,
    signed: t.Callable[[requests.PreparedRequest], requests.PreparedRequest] | None,
) -> bool:
    prepared = (signed or stream.authenticator)(request.copy())
    session = stream.requests_session
    with session.send(prepared, stream=True, timeout=stream.timeout) as response:
        stream.act_on(stream.answer_to(response), response)  # by status and headers
        encoding = response.headers.get("Transfer-Encoding", "").lower()
        framed = "Content-Length" in response.headers or "chunked" in encoding
        with path.open("wb") as file:
            for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                file.write(chunk)
    with path.open("rb") as file:  # a page instead of the file (a sign-in page)
        stream.act_on(stream.answer_to(response, sample=file.read(SAMPLE_BYTES)), response)
    if problem := whole(path, framed):
        raise RetriableAPIError(problem, response)
    return framed
