"""Copy as code for an application connection: the request with `auth=<access token>` at the portal's /rest/.

No token and no client secret appears in the output unless ``include_secret=True`` (and even then only the access
token: the refresh token and the client secret are always read from the environment). The programs read them
from ``B24_ACCESS_TOKEN``, ``B24_REFRESH_TOKEN`` and ``B24_CLIENT_SECRET``; curl gets ``<ACCESS_TOKEN>``.
PHP (b24phpsdk) documents app access only from a placement request, so that format is refused for an app.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from .export import (
    BatchRequest,
    Format,
    Request,
    _b24pysdk_call_lines,
    _js,
    _js_call_lines,
    _py,
    _wire,
)
from .oauth import OAuthCredentials

ACCESS_PLACEHOLDER = "<ACCESS_TOKEN>"
REFRESH_PLACEHOLDER = "<REFRESH_TOKEN>"
SECRET_PLACEHOLDER = "<CLIENT_SECRET>"
ACCESS_ENV, REFRESH_ENV, SECRET_ENV = "B24_ACCESS_TOKEN", "B24_REFRESH_TOKEN", "B24_CLIENT_SECRET"


def export_app_code(fmt: Format | str, app: OAuthCredentials, request: Request, *,
                    include_secret: bool = False) -> str:
    """The request as code for an app connection (see :func:`.export.export_code` for the webhook's)."""
    fmt = Format(fmt)
    if request.api not in (2, 3):
        raise ValueError("api must be 2 or 3")
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"{fmt.value} export is available for webhook connections only: b24phpsdk documents "
                         "application access from a placement request, not from stored tokens")
    token = app.tokens.access_token if include_secret else ACCESS_PLACEHOLDER
    text = renderer(app, request, token, include_secret)
    for secret, placeholder in ((app.tokens.access_token, ACCESS_PLACEHOLDER),
                                (app.tokens.refresh_token, REFRESH_PLACEHOLDER),
                                (app.app.client_secret, SECRET_PLACEHOLDER)):
        if secret and not (include_secret and secret == app.tokens.access_token):
            text = text.replace(secret, placeholder)
    return text


def _base(app: OAuthCredentials, api: int) -> str:
    return f"{app.rest_base}/api" if api == 3 else app.rest_base


def _with_auth(body: Any, token: Any) -> dict[str, Any]:
    """The body an app sends: `auth` first; a positional array becomes the object PHP reads it as."""
    if isinstance(body, list):
        body = {str(i): v for i, v in enumerate(body)}
    return {"auth": token, **(body or {})}


def _warning(mark: str, include_secret: bool) -> str:
    if include_secret:
        return f"{mark} WARNING: this snippet contains your application's access token. Do not share or commit it."
    return (f"{mark} The tokens and the client secret are read from the environment ({ACCESS_ENV}, {REFRESH_ENV}, "
            f"{SECRET_ENV}), so they stay out of the code.")


def _curl(app: OAuthCredentials, request: Request, token: str, include_secret: bool) -> str:
    method, body, query = _wire(request)
    url = f"{_base(app, request.api)}/{method}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    head = _warning("#", True) if include_secret else f"# Replace {ACCESS_PLACEHOLDER} with your app's access token."
    return "\n".join([
        head,
        f"curl -sS -X POST {shlex.quote(url)} \\",
        "  -H 'Content-Type: application/json' \\",
        f"  --data-raw {shlex.quote(json.dumps(_with_auth(body, token), ensure_ascii=False))}",
    ]) + "\n"


def _httpx(app: OAuthCredentials, request: Request, token: str, include_secret: bool) -> str:
    method, body, query = _wire(request)
    token_line = f"ACCESS_TOKEN = {token!r}" if include_secret else (
        f"ACCESS_TOKEN = os.environ.get({ACCESS_ENV!r}, {ACCESS_PLACEHOLDER!r})")
    what = "batch" if isinstance(request, BatchRequest) else f"{method} (REST v{request.api})"
    parts = [f'"""{what} as an application, exported by b24explorer."""', "", "import json"]
    parts += [] if include_secret else ["import os"]
    parts += ["", "import httpx", "", _warning("#", include_secret), token_line,
              f"BASE = {_base(app, request.api)!r}", "", f"body = {_py(_with_auth(body, '@@TOKEN@@'))}", "",
              "response = httpx.post(", f'    f"{{BASE}}/{method}",']
    if query:
        parts.append(f"    params={_py(query, 4)},")
    parts += ["    json=body,", "    timeout=30.0,", ")",
              "print(json.dumps(response.json(), ensure_ascii=False, indent=2))"]
    return "\n".join(parts).replace("'@@TOKEN@@'", "ACCESS_TOKEN") + "\n"


def _b24pysdk(app: OAuthCredentials, request: Request, token: str, include_secret: bool) -> str:
    host = app.portal.split("://", 1)[-1]
    access = repr(token) if include_secret else f"os.environ.get({ACCESS_ENV!r}, {ACCESS_PLACEHOLDER!r})"
    call_lines, what = _b24pysdk_call_lines(request)
    parts = [
        f'"""{what} as an application, exported by b24explorer (pip install b24pysdk)."""',
        "",
        "import json",
        "import os",
        "",
        "from b24pysdk import BitrixAppLocal, BitrixToken, Client",
        "",
        _warning("#", include_secret),
        f"app = BitrixAppLocal(domain={host!r}, client_id={app.app.client_id!r},",
        f"                     client_secret=os.environ.get({SECRET_ENV!r}, {SECRET_PLACEHOLDER!r}))",
        f"token = BitrixToken(domain={host!r}, auth_token={access},",
        f"                    refresh_token=os.environ.get({REFRESH_ENV!r}), bitrix_app=app)",
        "client = Client(token)",
        "",
        *call_lines,
        "print(json.dumps(response, ensure_ascii=False, indent=2, default=str))",
    ]
    return "\n".join(parts) + "\n"


def _b24jssdk(app: OAuthCredentials, request: Request, token: str, include_secret: bool) -> str:
    tokens = app.tokens
    access = _js(token) if include_secret else f"process.env.{ACCESS_ENV} ?? {_js(ACCESS_PLACEHOLDER)}"
    params = [
        "    applicationToken: '',",
        f"    userId: {tokens.user_id or 0},",
        f"    memberId: {_js(tokens.member_id)},",
        f"    accessToken: {access},",
        f"    refreshToken: process.env.{REFRESH_ENV} ?? {_js(REFRESH_PLACEHOLDER)},",
        f"    expires: {int(tokens.expires)},",
        "    expiresIn: 3600,",
        f"    scope: {_js(','.join(tokens.scopes))},",
        f"    domain: {_js(app.portal.split('://', 1)[-1])},",
        f"    clientEndpoint: {_js(app.rest_base + '/')},",
        f"    serverEndpoint: {_js(tokens.server_endpoint or 'https://oauth.bitrix.info/rest/')},",
        f"    status: {_js(tokens.status or 'L')}",
    ]
    parts = [
        "// Exported by b24explorer (npm install @bitrix24/b24jssdk). Run as an ES module (e.g. a .mjs file).",
        "import { B24OAuth } from '@bitrix24/b24jssdk'",
        "",
        _warning("//", include_secret),
        "const $b24 = new B24OAuth(",
        "  {",
        *params,
        "  },",
        f"  {{ clientId: {_js(app.app.client_id)}, clientSecret: process.env.{SECRET_ENV} ?? "
        f"{_js(SECRET_PLACEHOLDER)} }}",
        ")",
        "",
        *_js_call_lines(request),
    ]
    return "\n".join(parts) + "\n"


_RENDERERS = {Format.CURL: _curl, Format.HTTPX: _httpx, Format.B24PYSDK: _b24pysdk, Format.JS: _b24jssdk}
