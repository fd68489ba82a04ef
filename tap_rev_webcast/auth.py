"""Rev session tokens: log in once, share the token, keep it alive, never show it.

Every API call sends ``Authorization: VBrick <token>``. The token comes from
``POST /api/v2/authenticate`` (user API key and secret) or ``POST /api/v2/user/login``
(username and password) and expires at the ``expiration`` the login returns; Rev takes its
lifetime from the tenant's session inactivity timeout.

Policy (modelled on Vbrick's own TypeScript client; docs/vendor-notes.md,
"Rev: sessions and tokens"):

- One :class:`RevAuthenticator` per tap run, shared by every stream, so one login serves
  the whole run.
- Before each request: a token within ``min(3 min, a third of its lifetime)`` of expiry is
  extended with ``POST /api/v2/user/extend-session``; an expired one (within
  ``min(2 s, a tenth of its lifetime)`` of expiry) is replaced by a new login. Both margins
  scale with the lifetime, so a tenant whose sessions last seconds costs an extension every
  two thirds of a lifetime, not a login per request.
- A login answered 401 or 429 is never retried: repeated logins can lock the account.
  A 5xx or network error during login is retried like any other request.
- An extension answered 429 is waited out (Retry-After, else 'throttle_wait_seconds') and
  tried again: a login would meet the same limit. Any other failed extension (an error, an
  empty or unreadable 200) falls back to a new login.
- A 401 mid-run means LOG_IN_AGAIN (tap_common/answers.py): one new login, then the
  request is sent again (``RevStream.log_in_again``).
- Threads share the session: one login or extension at a time, and a token rejected in
  several threads at once is replaced by one login (:meth:`RevAuthenticator.renew`). A new
  login may revoke the key's previous token (Rev revokes API-key sessions per key): a
  request rejected with a token that has since been replaced is sent again with the new one,
  without another login.
- The run logs off at its end (:meth:`RevAuthenticator.logoff`: ``DELETE
  /api/v2/tokens/{apiKey}`` for an API-key session, ``POST /api/v2/user/logoff`` for a user
  session), as Vbrick's clients do on disconnect; a failed logoff is a warning, never a
  failed run.
- The key, secret, password and token never reach a log line, an error or the state: they
  live in this object only, out of its repr.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import quote

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_common.errors import (
    describe_exception,
    retry_advice,
    stop_before_retrying,
)
from tap_common.http import CrossHostRedirectError, NestedTooDeepError, decode_json, new_session
from tap_common.retry import RetryPolicy, retry_after_seconds, retrying
from tap_common.secrets import register_secret

if t.TYPE_CHECKING:
    from tap_rev_webcast.ratelimit import Clock

#: A token this close to its expiry (or a tenth of its lifetime) counts as expired.
EXPIRY_SKEW_SECONDS = 2.0
#: Lifetime assumed when a login answers without a usable expiration (as Vbrick's client).
DEFAULT_LIFETIME_SECONDS = 600.0
#: Extend a token once less than this much of it is left (or a third of its lifetime).
REFRESH_BEFORE_SECONDS = 180.0
EXTEND_PATH = "/api/v2/user/extend-session"
USER_LOGOFF_PATH = "/api/v2/user/logoff"


@dataclass(frozen=True)
class ApiKeyLogin:
    """User API key and secret, for POST /api/v2/authenticate."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    path: t.ClassVar[str] = "/api/v2/authenticate"
    settings: t.ClassVar[str] = "'api_key' and 'secret'"

    def body(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret}

    def logoff(self, user_id: str | None) -> tuple[str, str, dict | None]:
        """(method, path, JSON body) of the logoff: the session is revoked per key."""
        return "DELETE", f"/api/v2/tokens/{quote(self.api_key, safe='')}", None


@dataclass(frozen=True)
class UserLogin:
    """Username and password, for POST /api/v2/user/login."""

    username: str = field(repr=False)
    password: str = field(repr=False)
    path: t.ClassVar[str] = "/api/v2/user/login"
    settings: t.ClassVar[str] = "'username' and 'password'"

    def body(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}

    def logoff(self, user_id: str | None) -> tuple[str, str, dict | None]:
        """(method, path, JSON body) of the logoff: the user id of the login answer."""
        return "POST", USER_LOGOFF_PATH, {"userId": user_id}


class _ExpiredWhileThrottled(Exception):
    """The token expired while a throttled extension waited: log in instead."""


class RevAuthenticator(requests.auth.AuthBase):
    """Adds ``Authorization: VBrick <token>``; logs in, extends and re-logs in as needed."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: ApiKeyLogin | UserLogin,
        clock: Clock,
        logger: logging.Logger,
        timeout: float = 60,
        max_retries: int = 5,
        retry_base_seconds: float = 2,
        throttle_wait_seconds: float = 60,
        retry_max_wait_seconds: float = 120,
        answered: threading.Event | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.clock = clock
        self.logger = logger
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_base_seconds = retry_base_seconds
        self.throttle_wait_seconds = throttle_wait_seconds
        self.retry_max_wait_seconds = retry_max_wait_seconds
        #: Login retries and extension pauses: tap_common's waits (Retry-After, capped).
        self.policy = RetryPolicy(max_retries + 1, retry_base_seconds, retry_max_wait_seconds)
        # ``answered``: the run's flag (tap_common/run.py), set by any response.
        self.session = new_session(answered)
        self.logins = 0
        self.extensions = 0
        self._token: str | None = None
        self._user_id: str | None = None  # a user login's id, for its logoff
        self._expires_at = 0.0
        self._lifetime = DEFAULT_LIFETIME_SECONDS
        # Reentrant: token() logs in or extends while holding it. Held during the login
        # request, so the other threads wait for its token instead of logging in too.
        self._lock = threading.RLock()
        # A failed login stops the run; the threads still running must not try again (a
        # refused login repeated can lock the account).
        self._login_failure: FatalAPIError | None = None
        # The token of a login after a 401, until Rev accepts it once.
        self._unproven: str | None = None

    @override
    def __repr__(self) -> str:
        return f"RevAuthenticator(base_url={self.base_url!r}, logins={self.logins})"

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"VBrick {self.token()}"
        return request

    def token(self) -> str:
        """A token that is valid now: the cached one, extended or replaced when needed."""
        with self._lock:
            left = self._expires_at - self.clock.now()
            if self._token is None or left <= min(EXPIRY_SKEW_SECONDS, self._lifetime / 10):
                self.login()
            elif left < min(REFRESH_BEFORE_SECONDS, self._lifetime / 3):
                self.extend()
            assert self._token is not None
            return self._token

    @staticmethod
    def token_sent(request: requests.PreparedRequest) -> str | None:
        """The token ``request`` was sent with."""
        header = request.headers.get("Authorization") or ""
        return header.removeprefix("VBrick ") or None

    def renew(self, stale: str | None) -> bool:
        """After a 401 for ``stale``: log in again, unless another thread already has.

        False when ``stale`` itself came from such a login and Rev never accepted it: Rev
        rejects fresh tokens too, and another login would not help.
        """
        with self._lock:
            if self._token is not None and self._token != stale:
                return True
            if stale is not None and stale == self._unproven:
                return False
            self.login()
            self._unproven = self._token
            return True

    def accepted(self, token: str | None) -> None:
        """Rev answered a request sent with ``token``: that token works."""
        if token is not None and token == self._unproven:
            with self._lock:
                if token == self._unproven:
                    self._unproven = None

    # --- login and extend ---------------------------------------------------------------

    def login(self) -> None:
        """Log in (again); 401 and 429 are fatal at once, other failures are retried."""
        with self._lock:
            if self._login_failure is not None:
                raise self._login_failure
            try:
                self._login()
            except FatalAPIError as exc:
                self._login_failure = exc
                raise

    def _login(self) -> None:
        path = self.credentials.path

        def once() -> requests.Response:
            try:
                response = self._post(path, json=self.credentials.body())
            except requests.exceptions.RequestException as exc:
                self._stop_if_unreachable(exc, path)
                raise
            if response.status_code != HTTPStatus.OK:
                self._refuse_login(response, path)  # a 4xx is never retried
                raise RetriableAPIError(f"HTTP {response.status_code}", response)
            return response

        def warn(exc: BaseException, attempt: int, wait: float) -> None:
            self.logger.warning(
                "Rev login at %s failed (%s), attempt %d of %d; retrying in %.1f s.",
                path,
                describe_exception(exc),
                attempt,
                self.policy.max_tries,
                wait,
            )

        try:
            response = retrying(
                once,
                tries=self.policy.max_tries,
                waits=self.policy.waits(),
                retry_if=lambda exc: isinstance(
                    exc, RetriableAPIError | requests.exceptions.RequestException
                ),
                sleep=self.clock.sleep,
                on_retry=warn,
            )
        except (RetriableAPIError, requests.exceptions.RequestException) as exc:
            msg = (
                f"Rev login ({path}): gave up after {self.policy.max_tries} attempts: "
                f"{describe_exception(exc)}. {retry_advice(exc, self.timeout)}"
            )
            raise FatalAPIError(msg) from None
        self._accept(response, path)
        self.logins += 1
        self.logger.info(
            "Logged in to Rev (%s); the session lasts %.0f s and is extended before it expires.",
            path,
            self._lifetime,
        )

    def _stop_if_unreachable(self, exc: BaseException, path: str) -> None:
        """A login that never reached a server, before any answer, or a certificate that
        cannot be verified: a setting to fix, not retried."""
        stop = stop_before_retrying(
            exc,
            answered=self.session.answered.is_set(),
            where=f"Rev login ({path})",
            url=self.base_url,
            base_url=self.base_url,
        )
        if stop is not None:
            raise stop from None

    def _refuse_login(self, response: requests.Response, path: str) -> None:
        """Raise for a login answer that must not be retried (any 4xx)."""
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            msg = (
                f"Rev throttled the login (HTTP 429 from {path}). Not retried, because "
                "repeated logins can lock the account: wait a minute and run the tap again."
            )
            raise FatalAPIError(msg)
        if status == HTTPStatus.UNAUTHORIZED:
            msg = (
                f"Rev rejected the credentials (HTTP 401 from {path}). Check "
                f"{self.credentials.settings}; the key of a suspended user fails too. Not "
                "retried, because repeated failed logins can lock the account."
            )
            raise FatalAPIError(msg)
        if HTTPStatus.BAD_REQUEST <= status < HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = (
                f"Rev refused the login (HTTP {status} from {path}). Check "
                f"{self.credentials.settings} and 'base_url' (your Rev tenant URL)."
            )
            raise FatalAPIError(msg)

    def extend(self) -> None:
        """Extend the session; if Rev will not, log in again."""
        with self._lock:
            self._extend()

    def _extend(self) -> None:
        """Extend the token; a 429 is waited out and the extension retried (a login now
        would meet the same 429, and a throttled login is fatal). Any other failure, an
        empty or unreadable answer included, falls back to a new login."""

        def wait_unless_expired(seconds: float) -> None:
            self.clock.sleep(seconds)
            if self.clock.now() >= self._expires_at - EXPIRY_SKEW_SECONDS:
                raise _ExpiredWhileThrottled

        try:
            response = retrying(
                self._extend_once,
                tries=self.policy.max_tries,
                waits=self.policy.pauses(self.throttle_wait_seconds),
                retry_if=lambda exc: isinstance(exc, RetriableAPIError),
                sleep=wait_unless_expired,
                on_retry=self._throttled_extension,
            )
        except _ExpiredWhileThrottled:
            self._login_instead("the token expired while the extension was throttled")
            return
        except RetriableAPIError:
            msg = (
                f"Rev throttled the session extension (HTTP 429 from {EXTEND_PATH}) "
                f"{self.policy.max_tries} times. A login now would be throttled too, and "
                "repeated logins can lock the account: wait a few minutes and run the tap "
                "again, or raise 'max_retries' or 'throttle_wait_seconds'."
            )
            raise FatalAPIError(msg) from None
        if response is not None:
            self._accept(response, EXTEND_PATH)
            self.extensions += 1
            self.logger.debug("Extended the Rev session by %.0f s.", self._lifetime)

    def _extend_once(self) -> requests.Response | None:
        """The extension's 200 answer, or None when a login replaced it; a 429 raises."""
        try:
            response = self._post(EXTEND_PATH, headers={"Authorization": f"VBrick {self._token}"})
        except requests.exceptions.RequestException as exc:
            self._login_instead(describe_exception(exc))
            return None
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            raise RetriableAPIError("HTTP 429", response)
        if response.status_code != HTTPStatus.OK:
            self._login_instead(f"HTTP {response.status_code}")
            return None
        if _json_object(response) is None:
            self._login_instead("HTTP 200 without a JSON object")
            return None
        return response

    def _throttled_extension(self, exc: BaseException, attempt: int, wait: float) -> None:
        asked = retry_after_seconds(exc) is not None
        self.logger.warning(
            "Rev throttled the session extension (HTTP 429), attempt %d of %d; waiting "
            "%.1f s (%s) and extending again rather than logging in into the same limit.",
            attempt,
            self.policy.max_tries,
            wait,
            "Retry-After" if asked else "'throttle_wait_seconds'",
        )

    def _login_instead(self, cause: str) -> None:
        self.logger.info("Rev did not extend the session (%s); logging in again.", cause)
        self.login()

    def _post(self, path: str, **kwargs: t.Any) -> requests.Response:
        try:
            return self.session.post(
                f"{self.base_url}{path}",
                headers={"Accept": "application/json", **kwargs.pop("headers", {})},
                timeout=self.timeout,
                **kwargs,
            )
        except CrossHostRedirectError as exc:
            raise CrossHostRedirectError(f"Rev {path}: {exc}") from None

    def _accept(self, response: requests.Response, path: str) -> None:
        """Take the token (login) and expiration (login or extend) of a 200 answer."""
        body = _json_object(response)
        if body is None:
            msg = f"Rev answered {path} with a body that is not a JSON object."
            raise FatalAPIError(msg)
        if path != EXTEND_PATH:
            token = body.get("token")
            if not isinstance(token, str) or not token:
                msg = f"Rev answered {path} without a token."
                raise FatalAPIError(msg)
            register_secret(token)
            self._token = token
            user_id = body.get("id")
            self._user_id = user_id if isinstance(user_id, str) else None
        now = self.clock.now()
        expires_at = _epoch(body.get("expiration"))
        if expires_at is None or expires_at <= now:
            self.logger.debug(
                "Rev's answer from %s has no usable expiration; assuming %.0f s.",
                path,
                DEFAULT_LIFETIME_SECONDS,
            )
            expires_at = now + DEFAULT_LIFETIME_SECONDS
        self._expires_at = expires_at
        self._lifetime = expires_at - now

    # --- logoff ---------------------------------------------------------------------------

    def logoff(self) -> None:
        """End the session at the end of the run; a failure is only a warning."""
        with self._lock:
            if self._token is None:
                return
            method, path, body = self.credentials.logoff(self._user_id)
            where = path if body is not None else "/api/v2/tokens/{apiKey}"
            cause: str | None
            try:
                response = self.session.request(
                    method,
                    f"{self.base_url}{path}",
                    headers={
                        "Accept": "application/json",
                        "Authorization": f"VBrick {self._token}",
                    },
                    json=body,
                    timeout=self.timeout,
                )
            except requests.exceptions.RequestException as exc:
                cause = describe_exception(exc)
            else:
                cause = None if response.ok else f"HTTP {response.status_code}"
            self._token = None
        if cause is None:
            self.logger.info("Logged off from Rev (%s %s).", method, where)
        else:
            self.logger.warning(
                "Rev did not log the session off (%s %s: %s); the run's data is complete. "
                "The session ends by itself when it expires.",
                method,
                where,
                cause,
            )


def _json_object(response: requests.Response) -> dict | None:
    """The body of ``response`` if it is a JSON object, else None."""
    try:
        body = decode_json(response.content)
    except (ValueError, NestedTooDeepError):
        return None
    return body if isinstance(body, dict) else None


def _epoch(value: t.Any) -> float | None:
    """Epoch seconds of an ISO 8601 expiration, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] == "Z" else value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()
