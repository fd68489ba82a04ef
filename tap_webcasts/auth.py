"""Webcasts.com session login: one session (si, ui) per run, shared by every stream.

GET /api/login?username=&password=&ver=2.0 answers with a session id and a user id, which
every later call sends as the query parameters ``si`` and ``ui``. The password, si and ui
therefore travel in query strings: nothing here ever logs or raises a URL.
"""

from __future__ import annotations

import threading
import time
import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_common.errors import (
    UnreachableError,
    VendorDataError,
    describe_exception,
    retry_advice,
    unreachable_cause,
)
from tap_common.http import VendorSession, new_session
from tap_common.retry import retry_wait_generator
from tap_common.secrets import register_secret
from tap_webcasts import parsers


class WebcastsSession(requests.auth.AuthBase):
    """Logs in lazily, adds si/ui to each request, logs in again when told the session ended."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        session: VendorSession,
        max_tries: int,
        waits: t.Callable[[], t.Generator[float, BaseException | None, None]],
    ) -> None:
        self._base_url = base_url
        self._login_url = f"{base_url.rstrip('/')}/api/login"
        self._username = username
        self._password = password
        self._timeout = timeout
        self._http = session
        self._max_tries = max_tries
        self._waits = waits
        self._lock = threading.Lock()
        self._ids: tuple[str, str] | None = None  # (si, ui)
        self.logins = 0

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], answered: threading.Event
    ) -> WebcastsSession:
        """The session of a run, with the tap's timeout and retry settings; ``answered``
        is the run's flag (tap_common/run.py ``VendorRun.answered``)."""
        return cls(
            base_url=config["base_url"],
            username=config["username"],
            password=config["password"],
            timeout=config.get("request_timeout", 60),
            session=new_session(answered),
            max_tries=int(config.get("max_retries", 5)) + 1,
            waits=lambda: retry_wait_generator(
                base_seconds=float(config.get("retry_base_seconds", 2)),
                max_wait_seconds=float(config.get("retry_max_wait_seconds", 120)),
            ),
        )

    @override
    def __repr__(self) -> str:  # never show credentials, even in a debugger or a traceback
        return f"<WebcastsSession logins={self.logins}>"

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        si, ui = self.ids()
        parts = urlsplit(request.url or "")
        # A retried request comes back here: replace, never repeat, an older si/ui.
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        query = [(k, v) for k, v in query if k not in ("si", "ui")] + [("si", si), ("ui", ui)]
        request.url = urlunsplit(parts._replace(query=urlencode(query)))
        return request

    def ids(self) -> tuple[str, str]:
        with self._lock:
            if self._ids is None:
                self._ids = self._login()
            return self._ids

    def renew(self, stale: tuple[str, str] | None) -> None:
        """Log in again unless another caller already replaced the ``stale`` session."""
        with self._lock:
            if self._ids == stale or self._ids is None:
                self._ids = self._login()

    def _login(self) -> tuple[str, str]:
        result = self._send_login()
        if result.return_code != 1:
            msg = (
                f"Webcasts.com refused the login (returnCode {result.return_code}: "
                f"{result.message or 'no message'}). Check the 'username' and 'password' "
                "settings: they are the Reporting API account's, issued by Webcasts.com support."
            )
            raise FatalAPIError(msg)
        register_secret(result.session_id)
        register_secret(result.user_id)
        return result.session_id, result.user_id

    def _send_login(self) -> parsers.LoginResult:
        """GET the login URL and read it; transport errors, 429, 5xx and an unreadable body
        (a proxy's HTML page) are retried. A refusal is an answer, and is never retried."""
        params = {"username": self._username, "password": self._password, "ver": "2.0"}
        waits = self._waits()
        next(waits)
        for attempt in range(1, self._max_tries + 1):
            failure: BaseException
            try:
                response = self._http.get(self._login_url, params=params, timeout=self._timeout)
            except requests.RequestException as exc:
                self._stop_if_unreachable(exc)
                failure = exc
                cause = describe_exception(exc)
            else:
                self.logins += 1
                if response.status_code == requests.codes.ok:
                    try:
                        return parsers.parse_login(response.content)
                    except VendorDataError as exc:
                        failure, cause = exc, str(exc)
                else:
                    failure = RetriableAPIError("login", response)
                    cause = f"HTTP {response.status_code}"
                    if response.status_code != 429 and response.status_code < 500:
                        break
            if attempt < self._max_tries:
                time.sleep(waits.send(failure))
        msg = (
            f"Webcasts.com login ({urlsplit(self._login_url).path}): gave up after {attempt} "
            f"attempts: {cause}. {retry_advice(failure, self._timeout)}"
        )
        raise FatalAPIError(msg)

    def _stop_if_unreachable(self, exc: BaseException) -> None:
        """A login that never reached a server, before any answer: a setting to fix."""
        cause = unreachable_cause(exc)
        if cause is not None and not self._http.answered.is_set():
            where = f"Webcasts.com login ({urlsplit(self._login_url).path})"
            raise UnreachableError.of(where, self._login_url, cause, self._base_url)

    @property
    def current(self) -> tuple[str, str] | None:
        return self._ids
