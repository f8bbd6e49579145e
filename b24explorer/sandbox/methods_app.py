"""Methods that need an application's context: app.info, app.option.*, event.*, placement.*.

Called through a webhook (app.info aside, which then describes the webhook) they answer the errors the docs list for a call "outside the application context".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .events import check_binding, next_binding_id
from .oauth import APP_STATUS, App, AppHook
from .registry import Answer, ApiError, Ctx, as_int, v2


def _app(ctx: Ctx, code: str = "WRONG_AUTH_TYPE", status: int = 403) -> App:
    hook = ctx.hook
    if not isinstance(hook, AppHook):
        if code == "WRONG_AUTH_TYPE":
            raise ApiError(status, code, "Current authorization type is denied for this method. Application "
                                         "context required")
        raise ApiError(status, code, "Access denied! Application context required" if code == "ACCESS_DENIED"
                       else "Application context required")
    return hook.app


def _text(ctx: Ctx, name: str) -> str:
    value = ctx.param(name)
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


PORTAL_LICENSE = "de_ent10000"  # the plan's code with the portal's region, as app.info names it


@v2("app.info", "", cost=0.002)
def app_info(ctx: Ctx) -> Answer:
    """An application's own record; through an incoming webhook, its scopes and the portal's plan."""
    if not isinstance(ctx.hook, AppHook):
        return Answer({"SCOPE": ctx.portal.webhook_scopes(ctx.hook), "LICENSE": PORTAL_LICENSE})
    app = ctx.hook.app
    return Answer({"ID": app.app_id, "CODE": app.code, "VERSION": app.version, "STATUS": APP_STATUS,
                   "INSTALLED": True, "PAYMENT_EXPIRED": "N", "DAYS": None, "LANGUAGE_ID": "en",
                   "LICENSE": "en_project", "LICENSE_TYPE": "project", "LICENSE_FAMILY": "project"})


@v2("app.option.get", "", cost=0.002)
def app_option_get(ctx: Ctx) -> Answer:
    app = _app(ctx, "AccessException", 400)
    name = ctx.param("option")
    if name is None:
        return Answer(dict(app.options) if app.options else [])
    return Answer(app.options.get(str(name)))


@v2("app.option.set", "", cost=0.005, write=True)
def app_option_set(ctx: Ctx) -> Answer:
    app = _app(ctx, "AccessException", 400)
    options = ctx.param("options")
    if not isinstance(options, dict) or not options:
        raise ApiError(400, "ArgumentNullException", "options is empty")
    app.options.update({str(k): v for k, v in options.items()})
    ctx.wrote()
    return Answer(True)


_EVENT_KEYS = ("event", "handler", "auth_type", "offline")  # what event.get shows of a binding


def _event_row(ctx: Ctx) -> dict[str, Any]:
    event, handler = _text(ctx, "event").upper(), _text(ctx, "handler")
    if not event:
        raise ApiError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
    offline = _text(ctx, "event_type").lower() == "offline"
    if not handler and not offline:  # an offline event has no handler to call
        raise ApiError(400, "ERROR_ARGUMENT", "Handler URL is empty")
    auth_type = as_int(ctx.param("auth_type"), 0) or 0
    options = ctx.param("options")
    return {"event": event, "handler": handler, "auth_type": str(auth_type), "offline": 1 if offline else 0,
            "connector": _text(ctx, "auth_connector"), "options": options if isinstance(options, dict) else {}}


@v2("event.bind", "", cost=0.005, write=True)
def event_bind(ctx: Ctx) -> Answer:
    app = _app(ctx)
    row = _event_row(ctx)
    check_binding(ctx, row)
    row["id"] = next_binding_id(app)
    if any(r["offline"] == row["offline"] and r["connector"] == row["connector"] for r in app.events
           if r["event"] == row["event"] and r["handler"] == row["handler"]):
        raise ApiError(400, "ERROR_HANDLER_ALREADY_BINDED", "Handler already binded")
    app.events.append(row)
    ctx.wrote()
    return Answer(True)


def _bind(ctx: Ctx, rows: list[dict[str, Any]], row: dict[str, Any], what: str, code: str) -> Answer:
    """Add a binding unless the same handler is already bound to the same `what` (event or placement)."""
    if any(r[what] == row[what] and r["handler"] == row["handler"] for r in rows):
        raise ApiError(400, code, "Handler already binded")
    rows.append(row)
    ctx.wrote()
    return Answer(True)


@v2("event.get", "", cost=0.002)
def event_get(ctx: Ctx) -> Answer:
    return Answer([{key: e[key] for key in _EVENT_KEYS} for e in _app(ctx).events])


@v2("event.unbind", "", cost=0.005, write=True)
def event_unbind(ctx: Ctx) -> Answer:
    app = _app(ctx)
    event, handler = _text(ctx, "event").upper(), _text(ctx, "handler")
    if not event:
        raise ApiError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
    kind = _text(ctx, "event_type").lower()
    offline = None if kind not in ("online", "offline") else int(kind == "offline")
    return _unbind(ctx, app.events, lambda e: e["event"] == event and (not handler or e["handler"] == handler)
                   and (offline is None or e["offline"] == offline))


def _unbind(ctx: Ctx, rows: list[dict[str, Any]], matches: Callable[[dict[str, Any]], bool]) -> Answer:
    """Remove the bound rows that match; the answer counts them, as event.unbind and placement.unbind do."""
    kept = [row for row in rows if not matches(row)]
    count = len(rows) - len(kept)
    rows[:] = kept
    if count:
        ctx.wrote()
    return Answer({"count": count})


@v2("placement.bind", "placement", cost=0.005, write=True)
def placement_bind(ctx: Ctx) -> Answer:
    app = _app(ctx)
    placement, handler = _text(ctx, "PLACEMENT").upper(), _text(ctx, "HANDLER")
    if not placement:
        raise ApiError(400, "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty")
    if not handler:
        raise ApiError(400, "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty")
    options, lang_all = ctx.param("OPTIONS"), ctx.param("LANG_ALL")
    row = {"placement": placement, "handler": handler, "title": _text(ctx, "TITLE"),
           "description": _text(ctx, "DESCRIPTION"), "options": options if isinstance(options, dict) else [],
           "userId": as_int(ctx.param("USER_ID"), 0) or 0, "langAll": lang_all if isinstance(lang_all, dict) else []}
    return _bind(ctx, app.placements, row, "placement", "ERROR_PLACEMENT_HANDLER_ALREADY_BINDED")


@v2("placement.get", "placement", cost=0.002)
def placement_get(ctx: Ctx) -> Answer:
    return Answer([dict(p) for p in _app(ctx).placements])


@v2("placement.unbind", "placement", cost=0.005, write=True)
def placement_unbind(ctx: Ctx) -> Answer:
    app = _app(ctx)
    placement, handler = _text(ctx, "PLACEMENT").upper(), _text(ctx, "HANDLER")
    if not placement:
        raise ApiError(400, "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty")
    user = ctx.param("USER_ID")
    return _unbind(ctx, app.placements, lambda p: p["placement"] == placement
                   and (not handler or p["handler"] == handler) and (user is None or p["userId"] == as_int(user, 0)))
