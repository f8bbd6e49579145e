"""B24Client: one connection to a portal — calls, batches and list helpers over one httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time as _time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from .. import __version__
from .clock import Clock, SystemClock
from .encoding import batch_command, uuid7
from .errors import (
    KIND_NETWORK_AFTER_SEND,
    KIND_NETWORK_BEFORE_SEND,
    KIND_TIMEOUT,
    AjaxError,
    SdkError,
    ensure_json_params,
)
from .jsondoc import JsonDecodeFailure
from .jsondoc import parse as parse_json
from .limits import Failure, LimitsConfig, RestrictionManager, is_non_idempotent
from .logbus import Level, LogBus
from .oauth import EXPIRED_TOKEN, OAUTH_REFRESH_REFUSED, OAUTH_SERVER_FAILED, OAuthSession
from .paramkeys import case_collisions
from .redact import TRUNCATE_OVER, TRUNCATE_TO, redact_text
from .result import BASE_ERROR, AjaxResult, BatchResult, BatchRow, ListResult, TimeInfo
from .tls import TLS_CERTIFICATE_UNTRUSTED, certificate_failure, describe_certificate_failure, tls_context
from .v3 import MIGRATION_CODE as V3_MIGRATION_CODE
from .v3 import (
    NOT_FOUND_CODES,
    OPENAPI_METHOD,
    SOURCE_BUILTIN,
    SOURCE_CACHE,
    SOURCE_NONE,
    SOURCE_PORTAL,
    NoRestV3,
    V3Listing,
    V3Registry,
    methods_from_openapi,
    migration_message,
)
from .v3cache import FRESH_SECONDS as V3_FRESH_SECONDS
from .v3cache import PortalEntry, V3Cache, hook_digest
from .webhook import Webhook

MAX_BATCH_COMMANDS = 50
V3_SCOPES_METHOD = "rest.scope.list"
PARAM_KEY_CASE_CODE = "PARAM_KEY_CASE_COLLISION"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENT_REPLAYED_CODE = "IDEMPOTENT_REPLAYED"
KEY_REUSED_CODE = "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"b24explorer/{__version__}"
_METHOD_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")
_LEGACY_TASK = re.compile(r"^task\.", re.IGNORECASE)
_EXCERPT_LEN = 160


def _excerpt(raw: bytes, secrets: tuple[str, ...]) -> str:
    text = raw[: _EXCERPT_LEN * 4].decode("utf-8", errors="replace")
    text = re.sub(r"<[^>]{0,200}>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > _EXCERPT_LEN:
        text = text[:_EXCERPT_LEN] + "…"
    return redact_text(text, secrets) or "(empty body)"


def shared_tls_context() -> ssl.SSLContext:
    """The verifying TLS context over the OS trust store that every client without a CA file of its own shares."""
    return tls_context(None)


class B24Client:
    """An async client for one webhook or one application. Use as `async with B24Client(wh) as client: ...`.

    A webhook carries its secret in the URL path; an application (an :class:`OAuthSession`) sends
    `auth=<access token>` in the body to the portal's /rest/ and renews an expired token once, then re-sends.
    Holds one httpx.AsyncClient (keep-alive pool; the environment's proxy settings apply) and one
    RestrictionManager per API version. Redirects are never followed: a moved portal becomes a readable error
    instead of a silently re-sent request. TLS is verified against the OS trust store plus `ca_file`.
    """

    def __init__(
        self,
        webhook: Webhook | str | OAuthSession,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        limits: LimitsConfig | None = None,
        log: LogBus | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        v3_methods: Iterable[str] | None = None,
        user_agent: str = USER_AGENT,
        ca_file: str | None = None,
        v3_cache: V3Cache | bool = True,
    ) -> None:
        self.oauth = webhook if isinstance(webhook, OAuthSession) else None
        self.webhook: Webhook | OAuthSession = (
            webhook if isinstance(webhook, Webhook | OAuthSession) else Webhook.parse(webhook)
        )
        self.log = log if log is not None else LogBus()
        for secret in self._secrets:
            self.log.add_secret(secret)
        self.clock: Clock = clock or SystemClock()
        self.limits_config = limits if limits is not None else LimitsConfig.standard()
        self.timeout = timeout
        self.ca_file = ca_file or None
        verify = tls_context(self.ca_file)
        if self.oauth is not None and self.ca_file:
            self.oauth.set_verify(verify)
        log_fn = self.log.as_callable()
        self._limits = {
            2: RestrictionManager(self.limits_config, self.clock, log=log_fn),
            3: RestrictionManager(self.limits_config, self.clock, log=log_fn),
        }
        self._http = httpx.AsyncClient(
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            verify=verify,
            trust_env=True,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )
        self.v3 = V3Registry(self._fetch_v3_methods, notice=self._v3_notice)
        self._openapi: Any = None  # the portal's v3 OpenAPI document, from the registry's one fetch
        self._v3_cache = (
            V3Cache(self.webhook.portal) if v3_cache is True else (v3_cache or None)
        )  # the portal's v3 facts on disk (False: none)
        self._v3_entry: PortalEntry | None = None
        self._v3_refresh: asyncio.Future[None] | None = None  # an old entry being read again
        self._scope_lock: asyncio.Lock | None = None
        if v3_methods is not None:
            self.v3.preload(v3_methods)
        self.requests_sent = 0  # HTTP requests put on the wire (attempts included)
        self.lookup_requests = 0  # of those, the one-time look-up of the portal's v3 methods
        self.lookup_sent = False  # the look-up's request is on the wire
        self.retries = 0
        self.waited = 0.0  # seconds spent waiting for limits and before retries

    # --- lifecycle ----------------------------------------------------------------------------------------
    async def __aenter__(self) -> B24Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        refresh, self._v3_refresh = self._v3_refresh, None
        if refresh is not None and not refresh.done():
            refresh.cancel()
        if refresh is not None:
            await asyncio.gather(refresh, return_exceptions=True)
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def _check_open(self) -> None:
        if self._http.is_closed:
            raise SdkError("CLIENT_CLOSED", "This connection was closed; open a new B24Client", 500)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """Every secret this connection knows (an app's tokens change on refresh; old ones stay masked)."""
        if self.oauth is not None:
            return self.oauth.secrets
        assert isinstance(self.webhook, Webhook)
        return (self.webhook.secret,)

    def limiter(self, api: int = 2) -> RestrictionManager:
        return self._limits[api]

    def stats(self) -> dict[str, Any]:
        return {"v2": self._limits[2].stats(), "v3": self._limits[3].stats(), "requests": self.requests_sent}

    def __repr__(self) -> str:
        return f"B24Client({self.webhook.masked!r})"

    # --- public calls -------------------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        api: int = 2,
        request_id: str | None = None,
        pre_checks: bool = True,
        idempotency_key: str | None = None,
    ) -> AjaxResult:
        """One REST call. Returns an AjaxResult (failed for soft codes); raises AjaxError for hard failures.
        `pre_checks=False`: the caller runs the checks before sending itself — the parameter-key case, and
        the v2 migration check (list-all runs it alongside its requests).

        A v3 call of a method that creates, changes or deletes carries an `Idempotency-Key` (`idempotency_key`,
        else a new one): a re-send after an ambiguous failure (timeout, connection dropped after sending) reuses
        it, so the portal answers the repeat with its stored answer instead of running the write twice."""
        api = _check_api(api)
        method = _check_method(method)
        self._check_open()
        request_id = request_id or uuid7()
        body = _serialize(params, method, request_id)  # bad params fail here, before any request
        if pre_checks:
            self.warn_key_case(method, params, request_id)
        if api == 2 and pre_checks:
            await self.warn_if_in_v3(method, request_id)
        key = _idempotency_key(method, api, idempotency_key)
        try:
            return await self._request(
                method, params, api=api, request_id=request_id, body=body, idempotency_key=key
            )
        except AjaxError as err:
            if api == 2 and err.code == "ERROR_METHOD_NOT_FOUND":
                await self.v3.methods()
                self.explain_v3_only(err, method)
            raise

    async def batch(
        self,
        commands: Mapping[str, Any] | Sequence[Any],
        *,
        halt: bool = True,
        api: int = 2,
        request_id: str | None = None,
    ) -> BatchResult:
        """Up to 50 commands in one request: a list of `[method, params]`/`{"method","params"}` rows, or a
        `{label: row}` map (labels allow `$result[label][...]` references in later v2 commands)."""
        api = _check_api(api)
        self._check_open()
        rows, labelled = normalize_batch(commands)
        if not rows:
            raise AjaxError(
                "JSSDK_BATCH_EMPTY", "Batch is empty: give at least one command", 400, method="batch"
            )
        if len(rows) > MAX_BATCH_COMMANDS:
            raise AjaxError(
                "JSSDK_BATCH_TOO_LARGE",
                f"Batch too large: {len(rows)} commands (max: {MAX_BATCH_COMMANDS})",
                400,
                method="batch",
            )
        request_id = request_id or uuid7()
        for r in rows:
            self.warn_key_case(r.method, r.params, request_id)
        if api == 2:
            cmd: Any = (
                {str(r.key): batch_command(r.method, r.params) for r in rows}
                if labelled
                else [batch_command(r.method, r.params) for r in rows]
            )
            body: Any = {"halt": 1 if halt else 0, "cmd": cmd}
        else:
            body = []
            for r in rows:
                item: dict[str, Any] = {"method": r.method, "query": r.params or {}, "parallel": not halt}
                if labelled:
                    item["as"] = str(r.key)
                body.append(item)
        return await self._send_batch(rows, labelled, body, api=api, halt=halt, request_id=request_id)

    async def batch_encoded(
        self,
        commands: Sequence[tuple[str, str, Any, str]],
        *,
        halt: bool = True,
        request_id: str | None = None,
        on_sent: Callable[[], None] | None = None,
        on_answer: Callable[[AjaxResult], Awaitable[None]] | None = None,
    ) -> BatchResult:
        """A labelled v2 batch whose commands the caller already encoded: `(label, method, params, cmd)` rows,
        `cmd` being what `batch_command(method, params)` gives (list-all builds its 50 commands from one
        template). `params` only annotate errors. `on_sent` is called once the request is on the wire;
        `on_answer` is awaited with a successful answer before its rows are read (still lazy: list-all reads
        the next cursor there and sends the next batch without waiting for the rows)."""
        self._check_open()
        if not 0 < len(commands) <= MAX_BATCH_COMMANDS:
            raise AjaxError(
                "JSSDK_BATCH_TOO_LARGE" if commands else "JSSDK_BATCH_EMPTY",
                f"A batch carries 1 to {MAX_BATCH_COMMANDS} commands, not {len(commands)}",
                400,
                method="batch",
            )
        for method in {method for _, method, _, _ in commands}:
            _check_method(method)
        rows = [_Row(label, method, params) for label, method, params, _ in commands]
        body = {"halt": 1 if halt else 0, "cmd": {label: cmd for label, _, _, cmd in commands}}
        return await self._send_batch(
            rows,
            True,
            body,
            api=2,
            halt=halt,
            request_id=request_id or uuid7(),
            on_sent=on_sent,
            on_answer=on_answer,
        )

    async def _send_batch(
        self,
        rows: list[_Row],
        labelled: bool,
        body: Any,
        *,
        api: int,
        halt: bool,
        request_id: str,
        on_sent: Callable[[], None] | None = None,
        on_answer: Callable[[AjaxResult], Awaitable[None]] | None = None,
    ) -> BatchResult:
        keyed = [(r.key, r.method) for r in rows]
        res = await self._request(
            "batch",
            body,
            api=api,
            request_id=request_id,
            batch_rows=keyed,
            on_sent=on_sent,
            on_answer=on_answer,
        )
        return _batch_result(res, rows, labelled, api=api, halt=halt, secrets=self._secrets)

    async def batch_by_chunk(
        self,
        commands: Mapping[str, Any] | Sequence[Any],
        *,
        halt: bool = True,
        api: int = 2,
        request_id: str | None = None,
    ) -> BatchResult:
        """Any number of commands, sent as sequential batches of 50. Rows keep their global position/label.

        `$result[...]` references only work inside one chunk. A chunk that raises aborts the rest.
        """
        rows, labelled = normalize_batch(commands)
        if not rows:
            raise AjaxError(
                "JSSDK_BATCH_EMPTY", "Batch is empty: give at least one command", 400, method="batch"
            )
        merged = BatchResult(rows=[], labelled=labelled, api=api)
        for start in range(0, len(rows), MAX_BATCH_COMMANDS):
            chunk = rows[start : start + MAX_BATCH_COMMANDS]
            shaped: Any = (
                {str(r.key): [r.method, r.params] for r in chunk}
                if labelled
                else [[r.method, r.params] for r in chunk]
            )
            part = await self.batch(shaped, halt=halt, api=api, request_id=request_id)
            merged.responses.extend(part.responses)
            merged.response = part.response
            for row in part.rows:
                if not labelled:
                    row.key = start + int(row.key)
                merged.rows.append(row)
            for key, err in part.errors.items():
                if key == BASE_ERROR:
                    merged.errors[f"{BASE_ERROR}:{start // MAX_BATCH_COMMANDS}"] = err
                elif labelled:
                    merged.errors[key] = err
                else:
                    merged.errors[str(start + int(key))] = err
            if halt and not part.is_success:
                break
        return merged

    # list helpers live in lists.py; thin delegates keep one object for callers
    async def call_list(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> ListResult:
        from .lists import call_list

        return await call_list(self, method, params, **kw)

    def fetch_list(
        self, method: str, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> AsyncIterator[list[Any]]:
        from .lists import fetch_list

        return fetch_list(self, method, params, **kw)

    async def call_tail(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> ListResult:
        from .lists import call_tail

        return await call_tail(self, method, params, **kw)

    def fetch_tail(
        self, method: str, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> AsyncIterator[list[Any]]:
        from .lists import fetch_tail

        return fetch_tail(self, method, params, **kw)

    # --- v3 registry --------------------------------------------------------------------------------------
    async def _fetch_v3_methods(self) -> V3Listing:
        """The portal's v3 methods: from the disk cache while it is fresh (an old entry is used and read again in
        the background), else from the portal (and cached). Raises NoRestV3 for a portal without REST v3, and
        the failure for anything else (the registry then falls back to the built-in list)."""
        cache = self._v3_cache
        entry = cache.load() if cache is not None else None
        if entry is None:
            return await self._read_v3_document()
        self._v3_entry = entry
        self._openapi = entry.document
        age = entry.age()
        if age >= V3_FRESH_SECONDS and self._v3_refresh is None:
            self._v3_refresh = asyncio.ensure_future(self._refresh_v3())
        if not entry.available:
            raise NoRestV3
        return V3Listing(frozenset(entry.methods), SOURCE_CACHE, age)

    async def _read_v3_document(self) -> V3Listing:
        try:
            res = await self._request(
                OPENAPI_METHOD,
                None,
                api=3,
                request_id=uuid7(),
                quiet=True,
                retry=False,
                on_sent=self._lookup_out,
                lookup=True,
            )
        except AjaxError as err:
            if err.code in NOT_FOUND_CODES:
                self._save_v3_entry(PortalEntry(_time.time(), available=False))
                raise NoRestV3 from None
            raise
        if not res.is_success:
            if res.error is not None and res.error.code in NOT_FOUND_CODES:
                self._save_v3_entry(PortalEntry(_time.time(), available=False))
                raise NoRestV3
            raise res.error or SdkError("V3_OPENAPI_FAILED", "rest.documentation.openapi failed")
        document = res.document.to_python()
        methods = methods_from_openapi(document)
        self._openapi = document
        self._save_v3_entry(PortalEntry(_time.time(), True, sorted(methods), document))
        return V3Listing(methods, SOURCE_PORTAL, 0.0)

    def _save_v3_entry(self, entry: PortalEntry) -> None:
        previous = self._v3_entry
        if previous is not None:  # what else was known of the portal stays (scopes, webhooks)
            entry.scopes, entry.scopes_at, entry.hooks = previous.scopes, previous.scopes_at, previous.hooks
        self._v3_entry = entry
        if self._v3_cache is not None:
            self._v3_cache.save(entry)

    async def _refresh_v3(self) -> None:
        """Read an old cache entry's document again; the connection's list follows when it is read."""
        try:
            listing = await self._read_v3_document()
        except NoRestV3:
            self.v3.preload((), SOURCE_NONE)
        except Exception as exc:  # the old entry stays in use; the next connection tries again
            self.log.debug("V3_METHODS_REFRESH_FAILED", f"re-reading the v3 method list failed: {exc!r}")
            return
        else:
            self.v3.preload(listing.methods, SOURCE_PORTAL)
        self.v3.age = 0.0

    async def missing_v3_scope(self, method: str) -> str | None:
        """The scope `method` needs in REST v3 (rest.scope.list) when this webhook does not hold it (v2
        `scope`); None when it does, or when either could not be read. Both are cached with the portal's entry."""
        entry = self._v3_entry
        if entry is None:
            return None
        if self._scope_lock is None:
            self._scope_lock = asyncio.Lock()
        async with self._scope_lock:  # pages of one list ask at once: one look-up for all of them
            try:
                needed = (await self._v3_scopes(entry)).get(method.lower())
                if not needed:
                    return None
                held = await self._hook_scopes(entry)
            except (AjaxError, SdkError):
                return None
        return None if held is None or needed in held else needed

    async def _v3_scopes(self, entry: PortalEntry) -> dict[str, str]:
        if entry.scopes is None or _time.time() - entry.scopes_at >= V3_FRESH_SECONDS:
            res = await self._request(
                V3_SCOPES_METHOD, None, api=3, request_id=uuid7(), quiet=True, retry=False, lookup=True
            )
            if not res.is_success:
                return entry.scopes or {}
            found = res.result.get("item", res.result) if isinstance(res.result, dict) else None
            entry.scopes = (
                {str(k).lower(): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
            )
            entry.scopes_at = _time.time()
            if self._v3_cache is not None:
                self._v3_cache.save(entry)
        return entry.scopes

    async def _hook_scopes(self, entry: PortalEntry) -> set[str] | None:
        if not isinstance(self.webhook, Webhook):  # an application's token: its scopes are not cached here
            return None
        digest = hook_digest(self.webhook.portal, self.webhook.user_id, self.webhook.secret)
        known = entry.hooks.get(digest)
        if known is None or _time.time() - float(known.get("at", 0)) >= V3_FRESH_SECONDS:
            res = await self._request(
                "scope", None, api=2, request_id=uuid7(), quiet=True, retry=False, lookup=True
            )
            if not res.is_success or not isinstance(res.result, list):
                return None
            known = {"scopes": [str(s) for s in res.result], "at": _time.time()}
            entry.hooks[digest] = known
            if self._v3_cache is not None:
                self._v3_cache.save(entry)
        return {str(s) for s in known.get("scopes", [])}

    async def v3_openapi(self) -> Any:
        """The portal's v3 OpenAPI document, read by the same one-time look-up the migration warning uses (a call
        and the method catalog asking at once share it). None when that look-up failed (`v3.failure` says why)
        or did not ask the portal (a method list given up front)."""
        await self.v3.methods()
        return self._openapi

    def _lookup_out(self) -> None:
        self.lookup_sent = True

    def _v3_notice(self, code: str, message: str, context: dict[str, Any]) -> None:
        self.log.notice(code, message, method=OPENAPI_METHOD, context=context)

    async def warn_if_in_v3(self, method: str, request_id: str | None = None) -> None:
        """The migration WARNING when the portal also offers `method` in REST v3 (looked up once per portal and
        cached on disk). It says when the list is the built-in one, and when the webhook lacks the v3 method's
        scope; a portal without REST v3 gets none."""
        if not await self.v3.contains(method):
            return
        registry = self.v3
        fallback = registry.failure if registry.source == SOURCE_BUILTIN else None
        missing = await self.missing_v3_scope(method) if registry.source != SOURCE_BUILTIN else None
        self.log.warning(
            V3_MIGRATION_CODE,
            migration_message(method, fallback=fallback, missing_scope=missing),
            method=method,
            request_id=request_id,
            context={
                "method": method,
                "request_id": request_id,
                "source": registry.source,
                "age": None if registry.age is None else round(registry.age, 1),
                "fallback_reason": fallback,
                "missing_scope": missing,
            },
        )

    def warn_key_case(self, method: str, params: Any, request_id: str | None = None) -> None:
        """A WARNING for each pair of parameter keys that differ only in case (`FILTER` and `filter`): the
        portal reads one of them and silently drops the other."""
        for first, second in case_collisions(params):
            self.log.warning(
                PARAM_KEY_CASE_CODE,
                f"{method}: the params carry both `{first}` and `{second}`; the portal reads only one of them "
                "and silently drops the other. Keep one spelling.",
                method=method,
                request_id=request_id,
                context={"keys": [first, second]},
            )

    def explain_v3_only(self, err: AjaxError, method: str) -> None:
        """Rewrite a v2 ERROR_METHOD_NOT_FOUND for a method the portal offers in v3 (once its list is known)."""
        if not self.v3.loaded or not self.v3.known(method) or "only in REST v3" in err.description:
            return
        endpoint = f"{self.webhook.masked_v3_base}/{method}"
        err.description = (
            f"The method {method} exists only in REST v3 on this portal: call it with api=3 "
            f"({endpoint}). The portal said: {err.description or err.code}"
        )
        err.args = (err.message,)

    # --- the request engine -------------------------------------------------------------------------------
    def _url(self, method: str, api: int) -> str:
        base = self.webhook.v2_base if api == 2 else self.webhook.v3_base
        return f"{base}/{quote(method, safe='.')}"

    async def _request(
        self,
        method: str,
        params: Any,
        *,
        api: int,
        request_id: str,
        batch_rows: Sequence[tuple[str | int, str]] = (),
        quiet: bool = False,
        retry: bool = True,
        body: bytes | None = None,
        on_sent: Callable[[], None] | None = None,
        on_answer: Callable[[AjaxResult], Awaitable[None]] | None = None,
        lookup: bool = False,
        idempotency_key: str | None = None,
    ) -> AjaxResult:
        batch_methods = tuple(m for _, m in batch_rows)
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else None
        if body is None:
            body = _serialize(params, method, request_id)
        url = self._url(method, api)
        query = {} if _LEGACY_TASK.match(method) else {"bx24_request_id": request_id}
        refreshed = False  # an expired token is renewed once per request
        if self.oauth is not None and self.oauth.expired():
            refreshed = True
            await self._refresh(self.oauth.access_token, method, params, request_id)
        rm = self._limits[api]
        log_level = Level.DEBUG if quiet else Level.INFO
        self.log.emit(
            Level.DEBUG,
            "HTTP_REQUEST_STARTING",
            "http request starting",
            method=method,
            request_id=request_id,
            context={"api": api, "params": _loggable_params(params, body)},
        )
        attempt = 0
        while True:
            self.waited += await rm.before_attempt(method, batch_methods, request_id=request_id)
            started = _time.perf_counter()
            error: AjaxError | None
            res: AjaxResult | None
            self.lookup_requests += lookup  # (counted apart: other requests may go out meanwhile)
            token = self.oauth.access_token if self.oauth is not None else None
            try:
                response = await self._send(
                    url, query, _with_auth(body, token) if token else body, on_sent, headers
                )
                raw = response.content
            except AjaxError as err:
                error = self._annotate(err, method, params, request_id)
                res = None
            else:
                elapsed = _time.perf_counter() - started
                error, res = self._interpret(response, raw, method, params, request_id, api, elapsed)
                if error is None and res is not None:
                    self.log.emit(
                        log_level,
                        "HTTP_RESPONSE",
                        f"HTTP {res.status} in {elapsed * 1000:.0f} ms, {res.size} bytes",
                        method=method,
                        request_id=request_id,
                        context={"status": res.status, "elapsed": round(elapsed, 4), "size": res.size},
                    )
                    if idempotency_key:
                        self._note_idempotency(res, idempotency_key, attempt)
                    if not res.is_success and res.error is not None:
                        self._log_failure(res.error, quiet)
                    if res.is_success:
                        rm.on_success(method, res.document.value("time"), elapsed=elapsed)
                        if on_answer is not None:
                            await on_answer(res)
                    return res  # success, or an error inside a 200 body (returned, as the SDK does)
            assert error is not None
            if self.oauth is not None and token and not refreshed and error.code.lower() == EXPIRED_TOKEN:
                refreshed = True  # the portal did not run the call: renew the token and re-send, reads and writes
                await self._refresh(token, method, params, request_id)
                continue
            if error.code in _NEVER_RETRY or not retry:
                self._log_failure(error, quiet)
                raise error
            decision = rm.decide(
                method,
                Failure(status=error.status, code=error.code, message=error.description, kind=error.kind),
                attempt,
                batch_methods=batch_methods,
                request_id=request_id,
                keyed=idempotency_key is not None,
            )
            if decision.retry:
                self.retries += 1
                self.waited += decision.wait
                await self.clock.sleep(decision.wait)
                attempt += 1
                continue
            error.attempts = attempt + 1
            error.retry_reason = decision.reason
            if idempotency_key and res is not None:
                self._note_idempotency(res, idempotency_key, attempt)
            self._log_failure(error, quiet)
            if rm.config.is_soft_code(error.code) or _soft_v3(error, res, rm.config):
                return res if res is not None else AjaxResult.from_error(error, api=api)
            raise error

    async def _refresh(self, stale_token: str, method: str, params: Any, request_id: str) -> None:
        assert self.oauth is not None
        self.log.info("OAUTH_TOKEN_EXPIRED", "The access token expired; renewing it", method=method,
                      request_id=request_id)
        try:
            await self.oauth.refresh(stale_token)
        except AjaxError as err:
            error = self._annotate(err, method, params, request_id)
            self._log_failure(error)
            raise error from None
        finally:
            for secret in self._secrets:
                self.log.add_secret(secret)
        if self.oauth.save_failure is not None:
            failure, self.oauth.save_failure = self.oauth.save_failure, None
            self.log.warning("OAUTH_TOKENS_NOT_SAVED", f"The renewed tokens work but could not be saved to the "
                             f"keyring ({failure}); the next run will have to authorize again", method=method,
                             request_id=request_id)

    async def _send(
        self,
        url: str,
        query: dict[str, str],
        body: bytes,
        on_sent: Callable[[], None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        self.requests_sent += 1
        extensions = {"trace": _trace_sent(on_sent)} if on_sent is not None else None
        try:
            return await self._http.post(
                url,
                params=query,
                content=body,
                headers={"Content-Type": "application/json", **(headers or {})},
                extensions=extensions,
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise AjaxError(
                "REQUEST_TIMEOUT",
                "Request timeout exceeded (could not connect to the portal; nothing was sent)",
                408,
                kind=KIND_NETWORK_BEFORE_SEND,
                original_error=exc,
            ) from None
        except httpx.TimeoutException as exc:
            raise AjaxError(
                "REQUEST_TIMEOUT",
                "Request timeout exceeded (the request was sent; the portal may have performed it)",
                408,
                kind=KIND_TIMEOUT,
                original_error=exc,
            ) from None
        except httpx.WriteError as exc:
            # The request could not be written completely, so the portal cannot have run it.
            raise AjaxError(
                "NETWORK_ERROR",
                "Network connection failed while sending the request (it was not sent completely)",
                0,
                kind=KIND_NETWORK_BEFORE_SEND,
                original_error=exc,
            ) from None
        except httpx.ConnectError as exc:
            failure = certificate_failure(exc)
            if failure is not None:
                target = httpx.URL(url)
                problem = await asyncio.to_thread(
                    describe_certificate_failure, failure, target.host, target.port or 443
                )
                raise AjaxError(
                    TLS_CERTIFICATE_UNTRUSTED,
                    problem.message(self.ca_file),
                    0,
                    kind=KIND_NETWORK_BEFORE_SEND,
                    original_error=exc,
                ) from None
            raise AjaxError(
                "NETWORK_ERROR",
                "Network connection failed (could not connect to the portal; nothing was sent)",
                0,
                kind=KIND_NETWORK_BEFORE_SEND,
                original_error=exc,
            ) from None
        except httpx.TransportError as exc:
            raise AjaxError(
                "NETWORK_ERROR",
                "Network connection failed (the connection dropped after the request was sent; the portal "
                "may have performed it)",
                0,
                kind=KIND_NETWORK_AFTER_SEND,
                original_error=exc,
            ) from None

    def _note_idempotency(self, res: AjaxResult, key: str, attempt: int) -> None:
        """A replayed answer is logged as such; a refused reuse of the key is explained."""
        if res.replayed:
            again = " (after a re-send)" if attempt else ""
            self.log.notice(
                IDEMPOTENT_REPLAYED_CODE,
                f"{res.method}: the portal answered with its stored answer for Idempotency-Key {key}{again}; "
                "the write did not run again",
                method=res.method,
                request_id=res.request_id,
                context={"idempotency_key": key, "attempt": attempt + 1},
            )
        error = res.error
        if error is not None and error.code == KEY_REUSED_CODE and "Idempotency-Key" not in error.description:
            error.description = (
                f"The Idempotency-Key {key} was already used for this method with a different request body, "
                "so the portal refused it (the first call's answer is kept for 24 hours). A repeat of the same "
                "call must send the same body; a different call needs a new key. "
                f"The portal said: {error.description or error.code}"
            )
            error.args = (error.message,)

    def _annotate(self, err: AjaxError, method: str, params: Any, request_id: str) -> AjaxError:
        return AjaxError(
            err.code,
            err.description,
            err.status,
            method=method,
            params=params,
            request_id=request_id,
            kind=err.kind,
            original_error=err.original_error,
            secrets=self._secrets,
        )

    def _interpret(
        self,
        response: httpx.Response,
        raw: bytes,
        method: str,
        params: Any,
        request_id: str,
        api: int,
        elapsed: float,
    ) -> tuple[AjaxError | None, AjaxResult | None]:
        status = response.status_code
        common = {"method": method, "params": params, "request_id": request_id, "secrets": self._secrets}
        if 300 <= status < 400:
            target = urlhost(response.headers.get("location", ""))
            where = f" to {target}" if target else ""
            return AjaxError(
                "PORTAL_REDIRECT",
                f"The portal answered HTTP {status} with a redirect{where}; the request was not re-sent there. "
                "If the portal's address changed, update the connection's webhook URL.",
                status,
                **common,
            ), None
        try:
            document = parse_json(raw)
        except JsonDecodeFailure as exc:
            code = "ERR_BAD_RESPONSE" if status >= 500 else "ERROR_UNEXPECTED_ANSWER"
            what = "an empty body" if not raw.strip() else f"a body that is not JSON ({exc})"
            return AjaxError(
                code,
                f"The portal answered HTTP {status} with {what}: {_excerpt(raw, self._secrets)}",
                status,
                **common,
            ), None
        res = AjaxResult(
            raw,
            status=status,
            method=method,
            params=params,
            request_id=request_id,
            api=api,
            elapsed=elapsed,
            headers={k: v for k, v in response.headers.items() if k.lower() != "set-cookie"},
            document=document,
            secrets=self._secrets,
        )
        if 200 <= status < 300:
            return None, res
        if res.error is not None:
            return res.error, res  # the failed answer is kept: a soft code returns it as is
        code = "ERR_BAD_REQUEST" if status < 500 else "ERR_BAD_RESPONSE"
        return AjaxError(
            code, f"The portal answered HTTP {status} without an error code", status, **common
        ), None

    def _log_failure(self, error: AjaxError, quiet: bool = False) -> None:
        self.log.emit(
            Level.DEBUG if quiet else Level.ERROR,
            error.code,
            f"{error.code} (HTTP {error.status}): {error.message}",
            method=error.method,
            request_id=error.request_id,
            context={"status": error.status, "kind": error.kind, "params": error.request_info.get("params")},
        )


def _trace_sent(on_sent: Callable[[], None]) -> Callable[[str, Any], Awaitable[None]]:
    """An httpcore trace hook that calls `on_sent` once the request body has been written."""

    async def trace(event: str, info: Any) -> None:
        if event.endswith("send_request_body.complete"):
            on_sent()

    return trace


_V3_HARD_STATUSES = frozenset({401, 408, 429})


def _soft_v3(error: AjaxError, res: AjaxResult | None, config: LimitsConfig) -> bool:
    """REST v3 errors by category: an error in the v3 envelope with HTTP 4xx other than 401, 408 and 429 is a
    failed result, whatever its code (the portals ship more codes than any list), unless the code is hard."""
    return (
        res is not None
        and res.api == 3
        and 400 <= error.status <= 499
        and error.status not in _V3_HARD_STATUSES
        and error.code not in config.all_hard_codes
    )


def _idempotency_key(method: str, api: int, given: str | None) -> str | None:
    """The key a v3 write goes with (the given one, else a new one); None for reads and v2 (which ignores it)."""
    if api != 3 or not is_non_idempotent(method):
        return None
    return given or str(uuid.uuid4())


# Failures a retry cannot fix and that must not be re-sent: a redirect names another host.
# A certificate nobody trusts and a refused token refresh do not change by asking again.
_NEVER_RETRY = frozenset({"PORTAL_REDIRECT", TLS_CERTIFICATE_UNTRUSTED, OAUTH_REFRESH_REFUSED, OAUTH_SERVER_FAILED})


def _with_auth(body: bytes, token: str) -> bytes:
    """The JSON body with an app's `auth` field first (a positional array becomes the object PHP reads it as)."""
    field = b'"auth":' + json.dumps(token).encode()
    text = body.lstrip()
    if text.startswith(b"["):
        items = json.loads(body)
        text = json.dumps({str(i): v for i, v in enumerate(items)}, ensure_ascii=False,
                          separators=(",", ":")).encode()
    if not text.startswith(b"{"):
        return body
    rest = text[1:].lstrip()
    return b"{" + field + (b"" if rest.startswith(b"}") else b",") + rest


def urlhost(url: str) -> str:
    try:
        return httpx.URL(url).host
    except Exception:
        return ""


def _check_api(api: int | str) -> int:
    value = {"2": 2, "3": 3, "v2": 2, "v3": 3}.get(str(api).lower())
    if value is None:
        raise SdkError("JSSDK_CORE_B24_API_WRONG", f"Unknown API version {api!r}: use 2 or 3", 400)
    return value


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not _METHOD_NAME.match(method.strip()):
        raise SdkError(
            "INVALID_METHOD_NAME",
            "A method name is dotted letters and digits, e.g. crm.deal.list",
            400,
        )
    return method.strip()


def _serialize(params: Any, method: str, request_id: str) -> bytes:
    if params is None:
        params = {}
    if not isinstance(params, Mapping | list | tuple):
        raise AjaxError(
            "JSSDK_INVALID_PARAMS",
            f"Params must be a JSON object (or an array for positional methods), not {type(params).__name__}",
            400,
            method=method,
            request_id=request_id,
        )
    try:
        return json.dumps(params, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise AjaxError(
            "JSSDK_INVALID_PARAMS",
            f"Params are not JSON-serialisable: {exc}",
            400,
            method=method,
            request_id=request_id,
        ) from None


def _loggable_params(params: Any, body: bytes) -> Any:
    """Params for a log record: as they are when small, else the start of the JSON body (the SDK's 300/100 rule:
    a log line never carries a multi-megabyte upload)."""
    if len(body) <= TRUNCATE_OVER:
        return params
    return body[:TRUNCATE_TO].decode("utf-8", errors="replace") + "..."


# --- batch shapes ---------------------------------------------------------------------------------------
class _Row:
    __slots__ = ("key", "method", "params")

    def __init__(self, key: str | int, method: str, params: Any) -> None:
        self.key = key
        self.method = method
        self.params = params


def _row(value: Any, key: str | int) -> _Row:
    label: str | int = key
    if isinstance(value, str):
        method, params = value, None
    elif isinstance(value, list | tuple) and value and isinstance(value[0], str) and len(value) <= 2:
        method, params = value[0], (value[1] if len(value) > 1 else None)
    elif isinstance(value, Mapping) and isinstance(value.get("method"), str):
        method, params = value["method"], value.get("params")
        if value.get("as") and isinstance(key, int):
            label = str(value["as"])
    else:
        raise SdkError(
            "JSSDK_INTERACTION_BATCH_ROW_FAIL",
            f"Batch command {key!r} is neither [method, params] nor {{'method': ..., 'params': ...}}",
            400,
        )
    method = _check_method(method)
    if params is not None and not isinstance(params, Mapping | list | tuple):
        raise AjaxError(
            "JSSDK_INVALID_PARAMS",
            f"Params of batch command {key!r} must be a JSON object",
            400,
            method=method,
        )
    ensure_json_params(params, key, method)
    return _Row(label, method, params)


def normalize_batch(commands: Mapping[str, Any] | Sequence[Any]) -> tuple[list[_Row], bool]:
    """Rows in order and whether they are labelled (a map, or rows given `as` labels)."""
    if isinstance(commands, Mapping):
        rows = [_row(v, str(k)) for k, v in commands.items()]
        return rows, True
    if isinstance(commands, str) or not isinstance(commands, Sequence):
        raise SdkError(
            "JSSDK_INTERACTION_BATCH_ROW_FAIL",
            "Batch commands must be a list of rows or a {label: row} map",
            400,
        )
    rows = [_row(v, i) for i, v in enumerate(commands)]
    labelled = bool(rows) and isinstance(rows[0].key, str)
    if labelled:
        for i, r in enumerate(rows):
            if isinstance(r.key, int):
                r.key = str(i)
    return rows, labelled


def _position(key: str | int) -> int | None:
    """A label's place in a JSON array: PHP turns labels "0", "1", … into integer keys, so a map of them with
    keys 0..n-1 is written as an array (an empty one as `[]`)."""
    if isinstance(key, int):
        return key
    return int(key) if key.isdigit() and (key == "0" or not key.startswith("0")) else None


def _lookup(container: Any, key: str | int) -> Any:
    if isinstance(container, dict):
        return container.get(str(key))
    if isinstance(container, list):
        index = _position(key)
        if index is not None and 0 <= index < len(container):
            return container[index]
    return None


def _has(container: Any, key: str | int) -> bool:
    if isinstance(container, dict):
        return str(key) in container
    index = _position(key) if isinstance(container, list) else None
    return index is not None and 0 <= index < len(container)


def _batch_result(
    res: AjaxResult, rows: list[_Row], labelled: bool, *, api: int, halt: bool, secrets: tuple[str, ...]
) -> BatchResult:
    out = BatchResult(rows=[], labelled=labelled, api=api, response=res)
    out.responses.append(res)
    if not res.is_success:
        out.errors[BASE_ERROR] = res.error  # type: ignore[assignment]
        out.rows = [BatchRow(key=r.key, method=r.method, executed=False, status=res.status) for r in rows]
        return out
    if api == 3:
        positional = res.result if isinstance(res.result, list) else []
        batch_time = TimeInfo.from_value(res.document.value("time"))
        for i, r in enumerate(rows):
            if i < len(positional):
                out.rows.append(BatchRow(key=r.key, method=r.method, result=positional[i], time=batch_time))
            else:
                err = AjaxError(
                    "JSSDK_INTERACTION_BATCH_STRATEGY_V3_EMPTY_COMMAND_RESPONSE",
                    f"The batch answer has no result for command {r.key!r}",
                    res.status,
                    method=r.method,
                    params=r.params,
                    request_id=res.request_id,
                    secrets=secrets,
                )
                out.rows.append(BatchRow(key=r.key, method=r.method, error=err, executed=False))
                out.errors[str(r.key)] = err
        return out
    envelope: dict[str, Any] = res.result if isinstance(res.result, dict) else {}
    results, errors = envelope.get("result"), envelope.get("result_error")
    totals, nexts, times = (envelope.get(k) for k in ("result_total", "result_next", "result_time"))
    for r in rows:
        row = BatchRow(key=r.key, method=r.method, status=res.status)
        if _has(errors, r.key):
            raw_err = _lookup(errors, r.key)
            if isinstance(raw_err, Mapping):
                code, text = raw_err.get("error") or "JSSDK_BATCH_SUB_ERROR", raw_err.get("error_description")
            else:
                code, text = raw_err or "JSSDK_BATCH_SUB_ERROR", None
            row.error = AjaxError(
                str(code),
                str(text) if text else None,
                res.status,
                method=r.method,
                params=r.params,
                request_id=res.request_id,
                secrets=secrets,
            )
            out.errors[str(r.key)] = row.error
        elif _has(results, r.key):
            row.result = _lookup(results, r.key)
        elif halt:
            row.executed = False  # the server stopped before this command
        else:
            row.executed = False
            row.error = AjaxError(
                "JSSDK_INTERACTION_BATCH_STRATEGY_V2_EMPTY_COMMAND_RESPONSE",
                f"The batch answer has neither a result nor an error for command {r.key!r}",
                res.status,
                method=r.method,
                request_id=res.request_id,
            )
            out.errors[str(r.key)] = row.error
        try:
            row.total = int(_lookup(totals, r.key) or 0)
        except (TypeError, ValueError):
            row.total = 0
        nxt = _lookup(nexts, r.key)
        row.next = int(nxt) if isinstance(nxt, int | str) and str(nxt).lstrip("-").isdigit() else None
        row.time = TimeInfo.from_value(_lookup(times, r.key))
        out.rows.append(row)
    return out
