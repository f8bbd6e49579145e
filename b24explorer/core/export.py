"""Copy as code: the current request (or batch) as curl, Python (httpx), Python (b24pysdk), JavaScript
(b24jssdk) or PHP (b24phpsdk).

The webhook secret never appears in the output unless ``include_secret=True``: curl gets the portal's URL with
``<WEBHOOK_SECRET>`` in the secret's place; the programs read the whole webhook from the ``B24_WEBHOOK``
environment variable and fall back to that placeholder URL. As a last guard, any occurrence of the secret left in
the text (say, a webhook pasted into the params) is replaced by the placeholder too.
"""

from __future__ import annotations

import contextlib
import json
import os
import pprint
import re
import shlex
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from .encoding import batch_command

if TYPE_CHECKING:
    from .oauth import OAuthCredentials

PLACEHOLDER = "<WEBHOOK_SECRET>"
ENV_VAR = "B24_WEBHOOK"
_LEGACY_TASK = re.compile(r"^task\.", re.IGNORECASE)  # old task.* methods take no query string at all


class WebhookLike(Protocol):
    """What export needs of a webhook (``core.webhook.Webhook`` fits)."""

    @property
    def portal(self) -> str: ...  # scheme://host[:port]
    @property
    def user_id(self) -> int: ...
    @property
    def secret(self) -> str: ...


class Format(StrEnum):
    CURL = "curl"
    HTTPX = "python"
    B24PYSDK = "b24pysdk"
    JS = "js"
    PHP = "php"


FORMAT_LABELS: dict[Format, str] = {
    Format.CURL: "curl",
    Format.HTTPX: "Python (httpx)",
    Format.B24PYSDK: "Python (b24pysdk)",
    Format.JS: "JavaScript (b24jssdk)",
    Format.PHP: "PHP (b24phpsdk)",
}

# file name extensions for "save as"
FORMAT_SUFFIX: dict[Format, str] = {
    Format.CURL: ".sh", Format.HTTPX: ".py", Format.B24PYSDK: ".py", Format.JS: ".mjs", Format.PHP: ".php",
}


@dataclass(frozen=True)
class CallRequest:
    method: str
    params: Any = None
    api: int = 2
    request_id: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    """``commands``: a ``{label: [method, params]}`` map or a list of ``[method, params]`` rows."""

    commands: Mapping[str, Any] | Sequence[Any]
    halt: bool = True
    api: int = 2
    request_id: str | None = None
    rows: list[tuple[str | int, str, Any]] = field(init=False, repr=False)
    labelled: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from .client import normalize_batch  # here, not at the top: the client pulls in httpx

        rows, labelled = normalize_batch(self.commands)
        if not rows:
            raise ValueError("A batch needs at least one command.")
        object.__setattr__(self, "rows", [(r.key, r.method, r.params) for r in rows])
        object.__setattr__(self, "labelled", labelled)


Request = CallRequest | BatchRequest


# ---------------------------------------------------------------- public API


def export_code(fmt: Format | str, webhook: WebhookLike | OAuthCredentials, request: Request, *,
                include_secret: bool = False) -> str:
    """The request as code in the given format (see :class:`Format`); an app connection's credentials give the
    application's variant (`auth=<access token>` at the portal's /rest/, see :mod:`.export_app`)."""
    from .oauth import OAuthCredentials  # here: the window's start imports export before any app connection

    if isinstance(webhook, OAuthCredentials):
        from .export_app import export_app_code

        return export_app_code(fmt, webhook, request, include_secret=include_secret)
    fmt = Format(fmt)
    if request.api not in (2, 3):
        raise ValueError("api must be 2 or 3")
    ctx = _Context(webhook, include_secret)
    text = _RENDERERS[fmt](ctx, request)
    if not include_secret and webhook.secret:
        text = text.replace(webhook.secret, PLACEHOLDER)
    return text


def to_curl(webhook: WebhookLike, request: Request, *, include_secret: bool = False) -> str:
    return export_code(Format.CURL, webhook, request, include_secret=include_secret)


def to_httpx(webhook: WebhookLike, request: Request, *, include_secret: bool = False) -> str:
    return export_code(Format.HTTPX, webhook, request, include_secret=include_secret)


def to_b24pysdk(webhook: WebhookLike, request: Request, *, include_secret: bool = False) -> str:
    return export_code(Format.B24PYSDK, webhook, request, include_secret=include_secret)


def to_js(webhook: WebhookLike, request: Request, *, include_secret: bool = False) -> str:
    return export_code(Format.JS, webhook, request, include_secret=include_secret)


def to_php(webhook: WebhookLike, request: Request, *, include_secret: bool = False) -> str:
    return export_code(Format.PHP, webhook, request, include_secret=include_secret)


def save_response(path: str | os.PathLike[str], raw: bytes) -> Path:
    """Writes a response body as is (atomically: a partial file never replaces a good one)."""
    with replacing(path) as fh:
        fh.write(raw)
    return Path(path)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A file written beside `path` that replaces it only when the block ends without an error (or a
    cancellation): a partial file never replaces a good one, and nothing is left behind."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- shared pieces


class _Context:
    def __init__(self, webhook: WebhookLike, include_secret: bool) -> None:
        self.webhook = webhook
        self.include_secret = include_secret
        secret = webhook.secret if include_secret else PLACEHOLDER
        self.url = f"{webhook.portal}/rest/{webhook.user_id}/{secret}/"  # v2 form; v3 inserts /api

    def base(self, api: int) -> str:
        return self.url.replace("/rest/", "/rest/api/", 1).rstrip("/") if api == 3 else self.url.rstrip("/")

    def comment(self, mark: str) -> str:
        if self.include_secret:
            return f"{mark} WARNING: this snippet contains your webhook secret. Do not share or commit it."
        return (f"{mark} The webhook is read from the {ENV_VAR} environment variable, so the secret stays out of "
                f"the code:\n{mark}   {ENV_VAR}='{self.webhook.portal}/rest/{self.webhook.user_id}/<secret>/'")


def _query(method: str, request_id: str | None) -> dict[str, str]:
    if _LEGACY_TASK.match(method) or not request_id:
        return {}
    return {"bx24_request_id": request_id}


def _batch_body(request: BatchRequest) -> Any:
    """The wire body of a batch: v2 ``{halt, cmd}`` with PHP-style query strings, v3 the command array."""
    if request.api == 3:
        body = []
        for key, method, params in request.rows:
            item: dict[str, Any] = {"method": method, "query": params or {}}
            if request.labelled:
                item["as"] = str(key)
            body.append(item)
        return body
    if request.labelled:
        cmd: Any = {str(key): batch_command(method, params) for key, method, params in request.rows}
    else:
        cmd = [batch_command(method, params) for _, method, params in request.rows]
    return {"halt": 1 if request.halt else 0, "cmd": cmd}


def _wire(request: Request) -> tuple[str, Any, dict[str, str]]:
    """(method path, JSON body, query) as sent over HTTP."""
    if isinstance(request, BatchRequest):
        return "batch", _batch_body(request), _query("batch", request.request_id)
    return request.method, request.params if request.params is not None else {}, _query(
        request.method, request.request_id)


def _py(value: Any, indent: int = 0) -> str:
    text = pprint.pformat(value, indent=1, width=100 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _php(value: Any, level: int = 0) -> str:
    pad, inner = "    " * level, "    " * (level + 1)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Mapping):
        if not value:
            return "[]"
        items = [f"{inner}{_php(str(k))} => {_php(v, level + 1)}," for k, v in value.items()]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{inner}{_php(v, level + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    return _php(str(value), level)


# ---------------------------------------------------------------- renderers


def _curl(ctx: _Context, request: Request) -> str:
    method, body, query = _wire(request)
    url = f"{ctx.base(request.api)}/{method}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    lines = []
    if ctx.include_secret:
        lines.append(ctx.comment("#"))
    else:
        lines.append(f"# Replace {PLACEHOLDER} with your webhook's secret.")
    lines += [
        f"curl -sS -X POST {shlex.quote(url)} \\",
        "  -H 'Content-Type: application/json' \\",
        f"  --data-raw {shlex.quote(json.dumps(body, ensure_ascii=False))}",
    ]
    return "\n".join(lines) + "\n"


def _httpx(ctx: _Context, request: Request) -> str:
    method, body, query = _wire(request)
    webhook_line = (
        f"WEBHOOK = {ctx.url!r}" if ctx.include_secret else f"WEBHOOK = os.environ.get({ENV_VAR!r}, {ctx.url!r})"
    )
    base = (
        'WEBHOOK.replace("/rest/api/", "/rest/", 1).replace("/rest/", "/rest/api/", 1).rstrip("/")'
        if request.api == 3
        else 'WEBHOOK.replace("/rest/api/", "/rest/", 1).rstrip("/")'
    )
    what = "batch" if isinstance(request, BatchRequest) else f"{method} (REST v{request.api})"
    parts = [
        f'"""{what}, exported by b24explorer."""',
        "",
        "import json",
        "import os",
        "",
        "import httpx",
        "",
        ctx.comment("#"),
        webhook_line,
        f"BASE = {base}",
        "",
        f"body = {_py(body)}",
        "",
        "response = httpx.post(",
        f'    f"{{BASE}}/{method}",',
    ]
    if query:
        parts.append(f"    params={_py(query, 4)},")
    parts += [
        "    json=body,",
        "    timeout=30.0,",
        ")",
        "print(json.dumps(response.json(), ensure_ascii=False, indent=2))",
    ]
    return "\n".join(parts) + "\n"


def _b24pysdk(ctx: _Context, request: Request) -> str:
    portal_host = ctx.webhook.portal.split("://", 1)[-1]
    token_value = f"{ctx.webhook.user_id}/{ctx.webhook.secret}"
    if ctx.include_secret:
        token_lines = [
            ctx.comment("#"),
            f"token = BitrixWebhook(domain={portal_host!r}, webhook_token={token_value!r})",
        ]
    else:
        token_lines = [
            ctx.comment("#"),
            f"webhook = urlsplit(os.environ.get({ENV_VAR!r}, {ctx.url!r}))",
            "token = BitrixWebhook(",
            "    domain=webhook.netloc,",
            '    webhook_token=webhook.path.replace("/rest/api/", "/rest/", 1).removeprefix("/rest/").strip("/"),',
            ")",
        ]
    call_lines, what = _b24pysdk_call_lines(request)
    parts = [
        f'"""{what}, exported by b24explorer (pip install b24pysdk)."""',
        "",
        "import json",
        "import os",
        "from urllib.parse import urlsplit",
        "",
        "from b24pysdk import BitrixWebhook, Client",
        "",
        *token_lines,
        "client = Client(token)",
        "",
        *call_lines,
        "print(json.dumps(response, ensure_ascii=False, indent=2, default=str))",
    ]
    if ctx.include_secret:
        parts.remove("import os")
        parts.remove("from urllib.parse import urlsplit")
    return "\n".join(parts) + "\n"


def _b24pysdk_call_lines(request: Request) -> tuple[list[str], str]:
    """The b24pysdk lines that send the request through `token`, and what they send (for the docstring)."""
    version = ", prefer_version=3" if request.api == 3 else ""
    if isinstance(request, BatchRequest):
        if request.labelled:
            calls: Any = {str(k): (m, p or {}) for k, m, p in request.rows}
        else:
            calls = [(m, p or {}) for _, m, p in request.rows]
        return [
            f"commands = {_py(calls)}",
            f"response = token.call_batch(commands, halt={request.halt!r}{version})",
        ], "batch"
    params = request.params if request.params is not None else {}
    return [
        f"params = {_py(params)}",
        "# Any method, as is (the typed wrappers are on client, e.g. client.crm.deal.list(...)):",
        f"response = token.call_method(api_method={request.method!r}, params=params{version})",
    ], f"{request.method} (REST v{request.api})"


def _js_call_lines(request: Request) -> list[str]:
    """The b24jssdk lines that send the request through `$b24` and print the answer."""
    version = f"v{request.api}"
    if isinstance(request, BatchRequest):
        if request.labelled:
            calls: Any = {str(k): [m, p or {}] for k, m, p in request.rows}
        else:
            calls = [[m, p or {}] for _, m, p in request.rows]
        options: dict[str, Any] = {"isHaltOnError": request.halt}
        if request.request_id:
            options["requestId"] = request.request_id
        call = [
            f"const response = await $b24.actions.{version}.batch.make({{",
            f"  calls: {_indent(_js(calls), 2)},",
            f"  options: {_indent(_js(options), 2)}",
            "})",
        ]
    else:
        params = request.params if request.params is not None else {}
        call = [
            f"const response = await $b24.actions.{version}.call.make({{",
            f"  method: {_js(request.method)},",
            f"  params: {_indent(_js(params), 2)},",
        ]
        if request.request_id:
            call.append(f"  requestId: {_js(request.request_id)}")
        else:
            call[-1] = call[-1].rstrip(",")
        call.append("})")
    return [*call, "if (!response.isSuccess) {", "  console.error(response.getErrorMessages())", "}", "console.log(JSON.stringify(response.getData(), null, 2))"]


def _b24jssdk(ctx: _Context, request: Request) -> str:
    hook = (
        f"B24Hook.fromWebhookUrl({_js(ctx.url)})"
        if ctx.include_secret
        else f"B24Hook.fromWebhookUrl(process.env.{ENV_VAR} ?? {_js(ctx.url)})"
    )
    parts = [
        "// Exported by b24explorer (npm install @bitrix24/b24jssdk). Run as an ES module (e.g. a .mjs file).",
        "import { B24Hook } from '@bitrix24/b24jssdk'",
        "",
        ctx.comment("//"),
        f"const $b24 = {hook}",
        "",
        *_js_call_lines(request),
    ]
    return "\n".join(parts) + "\n"


def _b24phpsdk(ctx: _Context, request: Request) -> str:
    hook = _php(ctx.url) if ctx.include_secret else f"getenv('{ENV_VAR}') ?: {_php(ctx.url)}"
    method, params, _ = _wire(request)  # a batch is the `batch` method with its wire body as params
    uses = ["use Bitrix24\\SDK\\Services\\ServiceBuilderFactory;"]
    version_arg = ""
    if request.api == 3:
        uses.insert(0, "use Bitrix24\\SDK\\Core\\Contracts\\ApiVersion;")
        version_arg = ", ApiVersion::v3"
    parts = [
        "<?php",
        "// Exported by b24explorer (composer require bitrix24/b24phpsdk).",
        "declare(strict_types=1);",
        "",
        *uses,
        "",
        "require_once __DIR__ . '/vendor/autoload.php';",
        "",
        ctx.comment("//"),
        f"$b24 = ServiceBuilderFactory::createServiceBuilderFromWebhook({hook});",
        "",
        f"$params = {_php(params)};",
        f"$response = $b24->core->call({_php(method)}, $params{version_arg});",
        "print_r($response->getResponseData()->getResult());",
    ]
    return "\n".join(parts) + "\n"


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


_RENDERERS = {
    Format.CURL: _curl,
    Format.HTTPX: _httpx,
    Format.B24PYSDK: _b24pysdk,
    Format.JS: _b24jssdk,
    Format.PHP: _b24phpsdk,
}
