"""The portal: routing of one HTTP request to a method, limits, faults, envelopes, batch."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import (  # noqa: F401  (they fill the registries)
    methods_app,
    methods_crm_links,
    methods_v2,
    methods_v2_more,
    methods_v3,
)
from .batch import BATCH_LIMIT, BATCH_METHOD, parse_command, run_batch
from .costs import Costs, WorkMeter
from .counters import Counters
from .docs_fields import FACTS
from .encoding import BadRequestBody, parse_body, parse_json_strict, parse_query
from .events import EventHub
from .faults import Fault, FaultError, Faults, make_fault
from .idempotency import IdempotencyRecords, body_digest, valid_key
from .limits import PLANS, LeakyBucket, OperatingMeter
from .oauth import Answer as OAuthAnswer
from .oauth import OAuthServer, handle_http
from .query import Lister
from .registry import V2, V3, Answer, ApiError, Ctx, MethodSpec
from .store import PORTAL_TZ, Store, encode

_V3_PREFIX = "BITRIX_REST_V3_EXCEPTION_"
_USER_SCOPE_ALIASES = {"user": {"user", "user_brief", "user_basic"}}


@dataclass(frozen=True)
class Webhook:
    user_id: int
    secret: str
    scopes: frozenset[str] | None  # None: every scope


@dataclass
class Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str | None = None  # "reset_before" | "reset_after" | None
    delay: float = 0.0

    @property
    def content_type(self) -> str:
        for k, v in self.headers:
            if k.lower() == "content-type":
                return v
        return "application/json; charset=utf-8"


def dumps(obj: Any) -> bytes:
    return encode(obj).encode("ascii")


class Portal:
    def __init__(self, store: Store, *, plan: str, secret: str | None, page_size: int,
                 operating_limit: float | str | None, clock: Callable[[], float] | None, seed: int,
                 max_body_bytes: int, costs: Costs | None = None) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; expected one of {', '.join(PLANS)}")
        self.plan = PLANS[plan]
        self.store: Store = store
        self.lister = Lister()
        self.page_size = page_size
        self.clock: Callable[[], float] = clock or time.time
        self.max_body_bytes = max_body_bytes
        self.counters = Counters()
        self.faults = Faults(seed)
        self.costs = costs or Costs()
        self.work = WorkMeter()
        self.lock = threading.RLock()
        limit = self.plan.operating_limit if operating_limit == "plan" else operating_limit
        self.meter = OperatingMeter(limit if not isinstance(limit, str) else None)
        self.bucket = LeakyBucket(self.plan.drain_per_second, self.plan.burst)
        self.hooks: dict[str, Webhook] = {}
        self.main_hook = self.add_webhook(1, None, secret)
        self.oauth = OAuthServer(lambda: self.clock(), self.counters.count_request,
                                 member_id=hashlib.md5(f"sandbox-{seed}".encode()).hexdigest())
        self._idempotent = IdempotencyRecords()
        self.rest_v3 = True  # False: a portal without REST v3 (every /rest/api/ call: method not found)
        self.operating_time = True  # False: answers' `time` carries no `operating` / `operating_reset_at`
        self.admins = {1}  # the seeded administrator
        self.events = EventHub(self)

    # --- webhooks and scopes -------------------------------------------------------------------------

    def add_webhook(self, user_id: int, scopes: list[str] | None, secret: str | None = None) -> Webhook:
        hook = Webhook(int(user_id), secret or secrets.token_hex(8),
                       None if scopes is None else frozenset(str(s) for s in scopes))
        self.hooks[hook.secret] = hook
        return hook

    @staticmethod
    def hook_allows(hook: Webhook, scope: str) -> bool:
        if not scope or hook.scopes is None:
            return True
        allowed = _USER_SCOPE_ALIASES.get(scope, {scope})
        return bool(allowed & hook.scopes)

    @staticmethod
    def all_scopes() -> list[str]:
        """The scopes of the methods the sandbox serves."""
        return sorted({s.scope for s in (*V2.values(), *V3.values()) if s.scope})

    @classmethod
    def portal_scopes(cls) -> list[str]:
        """Every permission a portal has: the docs' scope table, and any scope the sandbox's methods use."""
        return sorted(set(FACTS["scopes"]) | set(cls.all_scopes()))

    def webhook_scopes(self, hook: Webhook) -> list[str]:
        """What a webhook holds; a full-scope webhook holds every scope of the methods served."""
        return self.all_scopes() if hook.scopes is None else sorted(hook.scopes)

    def reset(self) -> None:
        """Back to a clean slate between tests: faults, counters, limits, idempotency records."""
        self.faults.clear()
        self.counters.reset()
        with self.lock:
            self.meter.reset()
            self.bucket.reset()
            self._idempotent.clear()

    # --- simulated costs -------------------------------------------------------------------------------

    def charge_list_page(self, counted_rows: int) -> None:
        """A list page was served; `counted_rows` matching rows were counted for its `total` (0: none)."""
        self.work.add(self.costs.list_page(counted_rows))

    # --- time ----------------------------------------------------------------------------------------

    def time_block(self, start: float, finish: float, hook: Webhook | None, method: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": start, "finish": finish, "duration": finish - start, "processing": finish - start,
            "date_start": dt.datetime.fromtimestamp(start, PORTAL_TZ).isoformat(timespec="seconds"),
            "date_finish": dt.datetime.fromtimestamp(finish, PORTAL_TZ).isoformat(timespec="seconds"),
        }
        if hook is not None and method is not None and self.operating_time:
            key = (hook.secret, method)
            out["operating_reset_at"] = self.meter.reset_at(key, finish)
            out["operating"] = round(self.meter.operating(key, finish), 6)
        return out

    # --- HTTP entry ----------------------------------------------------------------------------------

    def handle(self, verb: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        path, _, query = target.partition("?")
        path = unquote(path)
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "_sandbox":
            return self._control(verb, parts[1:], body)
        self.work.begin()
        reply = self._dispatch(verb, parts, query, headers, body)
        # Slept by the server after the lock is released: requests in flight wait side by side.
        reply.delay += self.costs.request + self.work.spent()
        return reply

    def _dispatch(self, verb: str, parts: list[str], query: str, headers: dict[str, str], body: bytes) -> Reply:
        if parts and parts[0] == "oauth":
            return self._oauth_reply(handle_http(self.oauth, parts[1:], query, headers, body))
        if len(parts) >= 4 and parts[0] == "rest" and parts[1] == "api":
            return self._route(3, parts[2], parts[3], parts[4:], verb, query, headers, body)
        if len(parts) == 3 and parts[0] == "rest" and parts[1] == "api":  # an app's call: `auth` in the body
            return self._route(3, None, None, parts[2:], verb, query, headers, body)
        if len(parts) >= 3 and parts[0] == "rest":
            return self._route(2, parts[1], parts[2], parts[3:], verb, query, headers, body)
        if len(parts) == 2 and parts[0] == "rest":  # an app's call: `auth=<token>` in the query or body
            return self._route(2, None, None, parts[1:], verb, query, headers, body)
        return self._method_not_found(2)

    def _route(self, api: int, uid: str | None, secret: str | None, rest: list[str], verb: str, query: str,
               headers: dict[str, str], body: bytes) -> Reply:
        raw_method = "/".join(rest)
        method = raw_method.lower()
        if api == 2 and method.endswith(".json"):
            method = method[:-5]
        elif api == 2 and method.endswith(".xml"):
            return self._error(api, 400, "INVALID_REQUEST", "The sandbox answers in JSON only")
        method = method.strip("/")
        if not method or "/" in method:
            return self._method_not_found(api)
        self.counters.count_request(method)
        if api == 3 and not self.rest_v3:  # a portal without REST v3 knows no /rest/api/ method
            return self._error(2, 404, "ERROR_METHOD_NOT_FOUND", "Method not found")

        fault = self.faults.take(method)
        pending: Fault | None = None
        if fault is not None:
            early = self._fault_reply(api, fault, uid, secret, method)
            if early is not None:
                return early
            pending = fault

        reply = self._call(api, uid, secret, method, verb, query, headers, body)
        if pending is not None:
            if pending.kind == "reset_after":
                reply.action = "reset_after"
            elif pending.kind == "truncated":
                reply.body = reply.body[: max(1, len(reply.body) // 2)]
            elif pending.kind == "delay":
                reply.delay += pending.seconds
        return reply

    def _fault_reply(self, api: int, fault: Fault, uid: str | None, secret: str | None,
                     method: str) -> Reply | None:
        if fault.kind == "reset_before":
            return Reply(0, b"", action="reset_before")
        if fault.kind == "status":
            status = fault.status or 500
            code = fault.code or "INTERNAL_SERVER_ERROR"
            return self._error(api, status, code, fault.description or _DEFAULT_DESCRIPTIONS.get(code, code))
        if fault.kind == "html":
            status = fault.status or 502
            page = (f"<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status} "
                    f"Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n").encode()
            return Reply(status, page, [("Content-Type", "text/html; charset=utf-8")])
        if fault.kind == "redirect":
            prefix = "/rest/api" if api == 3 else "/rest"
            auth = f"/{uid}/{secret}" if secret is not None else ""
            location = fault.location or f"https://moved-portal.invalid{prefix}{auth}/{method}"
            return Reply(fault.status or 302, b"", [("Location", location), ("Content-Type", "text/html")])
        if fault.kind == "error_in_200":
            code = fault.code or "INTERNAL_SERVER_ERROR"
            desc = fault.description or _DEFAULT_DESCRIPTIONS.get(code, code)
            return self._error(api, 200, code, desc)
        return None  # truncated, reset_after, delay: the handler runs first

    def _error(self, api: int, status: int, code: str, description: str,
               validation: list[dict[str, str]] | None = None, headers: list[tuple[str, str]] | None = None) -> Reply:
        if api == 3:
            err: dict[str, Any] = {"code": code, "message": description}
            if validation is not None:
                err["validation"] = validation
            body: dict[str, Any] = {"error": err}
        else:
            body = {"error": code, "error_description": description}
        extra = list(headers or [])
        if status in (429, 503):
            extra.append(("Retry-After", "1" if status == 503 else "60"))
        return Reply(status, dumps(body), [("Content-Type", "application/json; charset=utf-8"), *extra])

    @staticmethod
    def _oauth_reply(answer: OAuthAnswer) -> Reply:
        if answer.location is not None:
            return Reply(answer.status, b"", [("Location", answer.location), ("Content-Type", "text/html")])
        if answer.page is not None:
            page = f"<!doctype html><title>Authorization</title><p>{answer.page}</p>".encode()
            return Reply(answer.status, page, [("Content-Type", "text/html; charset=utf-8")])
        return Reply(answer.status, dumps(answer.document), [("Content-Type", "application/json; charset=utf-8")])

    def _method_not_found(self, api: int) -> Reply:
        if api == 3:
            return self._error(3, 404, _V3_PREFIX + "METHODNOTFOUNDEXCEPTION", "Method not found")
        return self._error(2, 404, "ERROR_METHOD_NOT_FOUND", "Method not found")

    def _api_error(self, api: int, exc: ApiError) -> Reply:
        return self._error(api, exc.status, exc.code, exc.description, exc.validation)

    # --- one call ------------------------------------------------------------------------------------

    def _call(self, api: int, uid: str | None, secret: str | None, method: str, verb: str, query: str,
              headers: dict[str, str], body: bytes) -> Reply:
        start = self.clock()
        with self.lock:
            # A portal looks the method up before it reads the credentials.
            registry = V3 if api == 3 else V2
            spec = registry.get(method)
            if spec is None and method != "batch":
                return self._method_not_found(api)
            hook = self.hooks.get(secret) if secret is not None else None
            if secret is not None and (hook is None or str(hook.user_id) != uid):
                return self._error(api, 401, "INVALID_CREDENTIALS", "Invalid request credentials")
            if not self.bucket.admit(start):
                return self._error(api, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
            try:
                params = self._params(api, verb, query, headers, body)
            except BadRequestBody as exc:
                if api == 3:
                    return self._error(3, 400, _V3_PREFIX + "INVALIDJSONEXCEPTION", f"Invalid JSON: {exc}")
                return self._error(2, 400, "INVALID_REQUEST", f"Request body is not valid: {exc}")
            token = params.pop("auth", None)
            if hook is None:
                # App-style calls carry a token; the sandbox takes a webhook's secret as that user's token.
                hook = self.hooks.get(token) if isinstance(token, str) else None
                try:
                    hook = hook or (self.oauth.identity(token) if isinstance(token, str) else None)  # type: ignore[assignment]
                except ApiError as exc:
                    return self._api_error(api, exc)
                if hook is None:
                    return self._error(api, 401, "NO_AUTH_FOUND", "Wrong authorization data")
            if method == "batch":
                return self._batch_v3(hook, params, start) if api == 3 else self._batch_v2(hook, params, start)
            assert spec is not None
            if api == 3:
                return self._call_v3(spec, hook, params, headers, body, start)
            try:
                answer = self._execute(spec, hook, params, api)
            except ApiError as exc:
                return self._api_error(api, exc)
            envelope: dict[str, Any] = {"result": answer.result}
            if answer.next is not None:
                envelope["next"] = answer.next
            if answer.total is not None:
                envelope["total"] = answer.total
            envelope["time"] = self.time_block(start, self.clock(), hook, method)
            return Reply(200, dumps(envelope), [("Content-Type", "application/json; charset=utf-8")])

    def _params(self, api: int, verb: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        ctype = headers.get("content-type", "")
        if api == 3:
            # v3 reads the JSON body only; the query string is ignored, other content types refused.
            if body.strip() and ctype and "json" not in ctype.lower():
                raise BadRequestBody("REST v3 accepts JSON bodies only")
            data = parse_json_strict(body)
            if isinstance(data, list):
                return {"__list__": data}
            if not isinstance(data, dict):
                raise BadRequestBody("the body must be a JSON object")
            return data
        params = parse_query(query)
        if verb != "GET" or body:
            data = parse_body(body, ctype)
            if isinstance(data, list):  # positional methods take a 0-based array
                data = {str(i): v for i, v in enumerate(data)}
            if not isinstance(data, dict):
                raise BadRequestBody("the body must be an object of parameters")
            params.update(data)
        return params

    def _execute(self, spec: MethodSpec, hook: Webhook, params: dict[str, Any], api: int,
                 bill_to: str | None = None) -> Answer:
        """Scope and operating checks, the handler, then the operating charge (to `bill_to` when given: a
        batch's commands are billed to `batch`). Raises ApiError."""
        now = self.clock()
        if not self.hook_allows(hook, spec.scope):
            if api == 3:
                raise ApiError(403, _V3_PREFIX + "INSUFFICIENTSCOPEEXCEPTION",
                               "The request requires higher privileges than provided by the webhook token")
            raise ApiError(403, "insufficient_scope",
                           "The request requires higher privileges than provided by the webhook token")
        key = (hook.secret, bill_to or spec.name)
        if self.meter.blocked(key, now):
            raise ApiError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
        self.counters.count_call(spec.name)
        ctx = Ctx(self, hook, spec.name, params, api)
        worked = self.work.spent()
        try:
            answer = spec.handler(ctx)
            if spec.write:
                self.events.after_write(ctx, answer.result)
            return answer
        except ApiError:
            raise
        except RecursionError:
            raise ApiError(400, "INVALID_REQUEST", "Parameters are nested too deeply") from None
        except Exception as exc:  # a handler bug must not kill the server; answer as a portal would
            raise ApiError(500, "INTERNAL_SERVER_ERROR", f"Internal server error ({type(exc).__name__})") from exc
        finally:  # the simulated work of its pages adds to the method's operating time
            self.meter.charge(key, spec.cost + self.work.spent() - worked, self.clock())

    # --- REST v2 batch --------------------------------------------------------------------------------

    def _batch_v2(self, hook: Webhook, params: dict[str, Any], start: float) -> Reply:
        self.counters.count_call(BATCH_METHOD)
        billed = (hook.secret, BATCH_METHOD)
        if self.meter.blocked(billed, start):
            return self._error(2, 429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")

        def execute(method: str, inner: dict[str, Any]) -> Answer:
            return self._execute(V2[method], hook, inner, 2, bill_to=BATCH_METHOD)

        def time_block(t0: float) -> dict[str, Any]:
            return self.time_block(t0, self.clock(), hook, BATCH_METHOD)

        result = run_batch(params, execute, time_block, self.clock, self._parse_command)
        envelope = {"result": result, "time": self.time_block(start, self.clock(), hook, BATCH_METHOD)}
        return Reply(200, dumps(envelope), [("Content-Type", "application/json; charset=utf-8")])

    def _parse_command(self, command: Any, results: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return parse_command(command, results)

    # --- REST v3 --------------------------------------------------------------------------------------

    def _call_v3(self, spec: MethodSpec, hook: Webhook, params: dict[str, Any], headers: dict[str, str],
                 body: bytes, start: float) -> Reply:
        if "__list__" in params:
            return self._error(3, 400, _V3_PREFIX + "INVALIDJSONEXCEPTION", "The body must be a JSON object")
        key_header = headers.get("idempotency-key")
        idem_key: tuple[str, str, str] | None = None
        digest = ""
        echo: list[tuple[str, str]] = []
        if key_header is not None and spec.write:
            if not valid_key(key_header):
                return self._error(3, 400, _V3_PREFIX + "INVALIDIDEMPOTENCYKEYEXCEPTION",
                                   "Idempotency-Key must be 1-255 printable ASCII characters")
            echo = [("Idempotency-Key", key_header)]
            idem_key = (hook.secret, spec.name, key_header)
            digest = body_digest(params)
            stored = self._idempotent.find(idem_key, start)
            if stored is not None:
                if stored.digest != digest:
                    return self._error(3, 422, _V3_PREFIX + "IDEMPOTENCYKEYREUSEDEXCEPTION",
                                       "The idempotency key was already used with a different request body",
                                       headers=echo)
                return Reply(stored.status, stored.body, [("Content-Type", "application/json; charset=utf-8"),
                                                          *echo, ("Idempotent-Replayed", "true")])
        try:
            answer = self._execute(spec, hook, params, 3)
        except ApiError as exc:
            reply = self._api_error(3, exc)
            reply.headers.extend(echo)
            return reply
        if answer.bare:
            return Reply(200, dumps(answer.result), [("Content-Type", "application/json; charset=utf-8")])
        envelope = {"result": answer.result, "time": self.time_block(start, self.clock(), hook, spec.name)}
        body_out = dumps(envelope)
        if idem_key is not None:
            self._idempotent.keep(idem_key, digest, 200, body_out, start)
        return Reply(200, body_out, [("Content-Type", "application/json; charset=utf-8"), *echo])

    def _batch_v3(self, hook: Webhook, params: dict[str, Any], start: float) -> Reply:
        calls = params.get("__list__")
        if calls is None and params and all(k == str(i) for i, k in enumerate(params)):
            calls = list(params.values())  # the JS SDK spreads the list into an object keyed "0", "1", …
        if calls is None:
            return self._error(3, 400, _V3_PREFIX + "INVALIDSELECTEXCEPTION",
                               "REST v3 batch expects a JSON array of {method, query} objects")
        if len(calls) > BATCH_LIMIT:
            return self._error(3, 400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
        self.counters.count_call("batch")
        results: list[Any] = []
        aliases: dict[str, Any] = {}
        self.store.begin()
        try:
            for index, call in enumerate(calls):
                if not isinstance(call, dict) or not isinstance(call.get("method"), str):
                    raise ApiError(400, _V3_PREFIX + "VALIDATION_REQUESTVALIDATIONEXCEPTION",
                                   "Error validating request object",
                                   [{"field": f"[{index}].method", "message": "Required field `method` is not specified"}])
                method = call["method"].lower()
                if method == "batch":
                    raise ApiError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
                spec = V3.get(method)
                if spec is None:
                    raise ApiError(404, _V3_PREFIX + "METHODNOTFOUNDEXCEPTION", f"Method not found: {call['method']}")
                query = call.get("query", call.get("params", {}))
                if query is None:
                    query = {}
                if not isinstance(query, dict):
                    raise ApiError(400, _V3_PREFIX + "VALIDATION_REQUESTVALIDATIONEXCEPTION",
                                   "Error validating request object",
                                   [{"field": f"[{index}].query", "message": "`query` must be an object"}])
                answer = self._execute(spec, hook, self._v3_refs(query, aliases, index), 3, bill_to=BATCH_METHOD)
                results.append(answer.result)
                aliases[str(index)] = answer.result
                if isinstance(call.get("as"), str) and call["as"]:
                    aliases[call["as"]] = answer.result
        except ApiError as exc:
            self.store.rollback()
            return self._api_error(3, exc)
        except Exception:
            self.store.rollback()
            raise
        self.store.commit()
        # The commands are billed to `batch` (a spent budget still blocks the next batch with 429), but a portal's
        # REST v3 batch answers `operating: 0` beside the window's `operating_reset_at`: the outer batch call
        # itself is not accounted (`settings/performance/limits.md`; the JS SDK's v3 batch integration tests).
        timing = self.time_block(start, self.clock(), hook, BATCH_METHOD)
        if "operating" in timing:
            timing["operating"] = 0
        envelope = {"result": results, "time": timing}
        return Reply(200, dumps(envelope), [("Content-Type", "application/json; charset=utf-8")])

    def _v3_refs(self, query: dict[str, Any], aliases: dict[str, Any], index: int) -> dict[str, Any]:
        """`{"$ref": "alias.path"}` and `{"$refArray": "alias.path"}` markers, resolved from earlier commands.

        A path into a list answer (`{"items": [...]}`) that names a field rather than `items` collects that
        field across the items; a reference that resolves to nothing refuses the whole batch.
        """

        def bad(marker: str) -> ApiError:
            return ApiError(400, _V3_PREFIX + "INVALIDSELECTEXCEPTION", f"Unable to resolve reference `{marker}`",
                            [{"field": f"[{index}].query", "message": f"Unable to resolve reference `{marker}`"}])

        def follow(node: Any, path: list[str], marker: str) -> Any:
            for i, segment in enumerate(path):
                if isinstance(node, dict) and segment in node:
                    node = node[segment]
                elif isinstance(node, dict) and isinstance(node.get("items"), list):
                    return [follow(item, path[i:], marker) for item in node["items"]]
                elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                    node = node[int(segment)]
                elif isinstance(node, list):
                    return [follow(item, path[i:], marker) for item in node]
                else:
                    raise bad(marker)
            return node

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                if len(value) == 1 and ("$ref" in value or "$refArray" in value):
                    marker = str(value.get("$ref", value.get("$refArray")))
                    alias, _, rest = marker.partition(".")
                    if alias not in aliases:
                        raise bad(marker)
                    return follow(aliases[alias], rest.split(".") if rest else [], marker)
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return walk(query)

    # --- control API -----------------------------------------------------------------------------------

    def _control(self, verb: str, parts: list[str], body: bytes) -> Reply:
        def ok(obj: Any, status: int = 200) -> Reply:
            return Reply(status, dumps(obj), [("Content-Type", "application/json; charset=utf-8")])

        if parts[:1] == [self.main_hook.secret] and parts[1:] == ["oauth", "expire"] and verb == "POST":
            return ok({"result": {"expired": self.oauth.expire_all()}})
        if len(parts) != 2 or parts[0] != self.main_hook.secret:
            return ok({"error": "NO_AUTH_FOUND", "error_description": "Wrong control secret"}, 401)
        what = parts[1]
        if what == "faults":
            if verb == "DELETE":
                self.faults.clear()
                return ok({"result": True})
            if verb == "GET":
                return ok({"result": [f.to_dict() for f in self.faults.list()]})
            if verb == "POST":
                try:
                    data = json.loads(body or b"{}")
                    items = data if isinstance(data, list) else [data]
                    made = []
                    for item in items:
                        if not isinstance(item, dict):
                            raise FaultError("each fault must be an object")
                        item = dict(item)
                        made.append(make_fault(str(item.pop("kind", "")), item.pop("method", None),
                                               item.pop("count", None), item.pop("probability", None), **item))
                except (ValueError, TypeError) as exc:
                    return ok({"error": "INVALID_FAULT", "error_description": str(exc)}, 400)
                for fault in made:
                    self.faults.add_fault(fault)
                return ok({"result": [f.to_dict() for f in made]})
        elif what == "counters":
            if verb == "GET":
                return ok({"result": self.counters.snapshot()})
            if verb == "DELETE":
                self.counters.reset()
                return ok({"result": True})
        elif what == "costs":
            if verb == "GET":
                return ok({"result": self.costs.to_dict()})
            if verb == "DELETE":
                self.costs = Costs()
                return ok({"result": self.costs.to_dict()})
            if verb == "POST":
                try:
                    self.costs = Costs.from_dict(json.loads(body or b"{}"), self.costs)
                except (ValueError, TypeError) as exc:
                    return ok({"error": "INVALID_COSTS", "error_description": str(exc)}, 400)
                return ok({"result": self.costs.to_dict()})
        elif what == "reset" and verb == "POST":
            self.reset()
            return ok({"result": True})
        return ok({"error": "NOT_FOUND", "error_description": "Unknown control route"}, 404)


_DEFAULT_DESCRIPTIONS = {
    "QUERY_LIMIT_EXCEEDED": "Too many requests",
    "OPERATION_TIME_LIMIT": "Method is blocked due to operation time limit.",
    "INTERNAL_SERVER_ERROR": "Internal server error",
    "NO_AUTH_FOUND": "Wrong authorization data",
    "ACCESS_DENIED": "Access denied",
    "OVERLOAD_LIMIT": "REST API is blocked due to overload",
    "expired_token": "The access token provided has expired",
}
