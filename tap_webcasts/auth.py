"""Webcasts.com session login: one session (si, ui) per run, shared by every stream.

GET /api/login?username=&password=&ver=2.0 answers with a session id and a user id, which
every later call sends as the query parameters ``si`` and ``ui``. The password, si and ui
therefore travel in query strings: nothing here ever logs or raises a URL.
"""

from __future__ import annotations

import threading
import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_common.errors import (
    VendorDataError,
    describe_exception,
    retry_advice,
    stop_before_retrying,
)
from tap_common.http import VendorSession, new_session
from tap_common.retry import RetryPolicy, retrying
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
        policy: RetryPolicy,
    ) -> None:
        self._base_url = base_url
        self._login_url = f"{base_url.rstrip('/')}/api/login"
        self._username = username
        self._password = password
        self._timeout = timeout
        self._http = session
        self._policy = policy
        self._lock = threading.Lock()
        self._ids: tuple[str, str] | None = None  # (si, ui)
        # The session each thread's last request carried, and the session of a login
        # after a refusal until the API accepts it once.
        self._used = threading.local()
        self._unproven: tuple[str, str] | None = None
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
            policy=RetryPolicy.from_config(config),
        )

    @override
    def __repr__(self) -> str:  # never show credentials, even in a debugger or a traceback
        return f"<WebcastsSession logins={self.logins}>"

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        si, ui = self._used.ids = self.ids()
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

    def renew_after_refusal(self) -> bool:
        """The session this thread's last request carried has ended: log in again, unless
        another thread already has. False when that session came from such a login
        itself: it was refused at once, and another login would not help."""
        stale = getattr(self._used, "ids", None)
        with self._lock:
            if self._ids is not None and self._ids != stale:
                return True
            if stale is not None and stale == self._unproven:
                return False
            self._ids = self._unproven = self._login()
            return True

    def accepted(self) -> None:
        """The API answered this thread's last request: its session works."""
        if self._unproven is not None and getattr(self._used, "ids", None) == self._unproven:
            with self._lock:
                self._unproven = None

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
        (a proxy's HTML page) are retried (tap_common.retry). A refusal is an answer, and
        is never retried."""
        params = {"username": self._username, "password": self._password, "ver": "2.0"}
        where = f"Webcasts.com login ({urlsplit(self._login_url).path})"

        def once() -> parsers.LoginResult:
            try:
                response = self._http.get(self._login_url, params=params, timeout=self._timeout)
            except requests.RequestException as exc:
                stop = stop_before_retrying(
                    exc,
                    answered=self._http.answered.is_set(),
                    where=where,
                    url=self._login_url,
                    base_url=self._base_url,
                )
                if stop is not None:
                    raise stop from None
                raise
            self.logins += 1
            if response.status_code != requests.codes.ok:
                raise RetriableAPIError(f"HTTP {response.status_code}", response)
            try:
                return parsers.parse_login(response.content)
            except VendorDataError as exc:
                raise RetriableAPIError(str(exc), response) from None

        attempts = 0

        def counted() -> parsers.LoginResult:
            nonlocal attempts
            attempts += 1
            return once()

        try:
            return retrying(
                counted,
                tries=self._policy.max_tries,
                waits=self._policy.waits(),
                retry_if=_retried_login_failure,
            )
        except (requests.RequestException, RetriableAPIError) as exc:
            msg = (
                f"{where}: gave up after {attempts} attempts: {describe_exception(exc)}. "
                f"{retry_advice(exc, self._timeout)}"
            )
            raise FatalAPIError(msg) from None

    @property
    def current(self) -> tuple[str, str] | None:
        return self._ids


def _retried_login_failure(exc: BaseException) -> bool:
    """Transport errors, 429, 5xx and unreadable bodies; never another refusal (4xx)."""
    if isinstance(exc, RetriableAPIError):
        status = getattr(exc.response, "status_code", 200)
        return status in (requests.codes.ok, requests.codes.too_many_requests) or status >= 500
    return isinstance(exc, requests.RequestException)
