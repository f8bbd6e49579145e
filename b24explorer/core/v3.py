"""Which methods the portal offers in REST v3, and the migration warning for v2 calls of them.

The source of truth is the portal's own `rest.documentation.openapi` (its `paths` keys, `/tasks.task.get`),
read once per portal and cached on disk (v3cache). A portal that answers "method not found" for it has no
REST v3: no method is "available in v3" there. When the read fails otherwise, the documented list below is
used, and the warnings say so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIGRATION_CODE = "METHOD_AVAILABLE_IN_API_V3"
OPENAPI_METHOD = "rest.documentation.openapi"
SOURCE_PORTAL = "portal"  # read from the portal just now
SOURCE_CACHE = "cache"  # the portal's list as cached on disk (see `V3Registry.age`)
SOURCE_BUILTIN = "builtin"  # the documented list: the portal's could not be read
SOURCE_NONE = "none"  # the portal has no REST v3
NOT_FOUND_CODES = frozenset({"ERROR_METHOD_NOT_FOUND", "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION"})


class NoRestV3(Exception):
    """The portal answered "method not found" for its v3 document: it has no REST v3."""


@dataclass(frozen=True)
class V3Listing:
    """What a look-up found: the methods, where they came from, and how old that reading is (seconds)."""

    methods: frozenset[str]
    source: str = SOURCE_PORTAL
    age: float = 0.0


def migration_message(method: str, *, fallback: str | None = None, missing_scope: str | None = None) -> str:
    """The advice; `fallback`: why the built-in list was used; `missing_scope`: a scope the v3 method needs
    that the webhook does not hold."""
    text = f"The method {method} is available in restApi:v3. It's worth migrating to the new API."
    if missing_scope:
        text += (
            f" This webhook lacks the scope `{missing_scope}` that {method} needs in REST v3 (rest.scope.list): "
            "add it to the webhook before switching."
        )
    if fallback:
        text += (
            f" (The portal's own list of v3 methods could not be read ({fallback}); this comes from the built-in "
            "list of documented v3 methods.)"
        )
    return text


def _family(prefix: str, names: str) -> list[str]:
    return [f"{prefix}.{n.strip()}" for n in names.split(",")]


# The documented REST v3 methods (public REST docs).
BUILTIN_V3_METHODS: frozenset[str] = frozenset(
    _family("call.followup", "field.get, field.list, get, list")
    + _family(
        "humanresources.employee", "count, field.get, field.list, multidepartment, search, subordinates"
    )
    + _family(
        "humanresources.node",
        "add, children, communication.edit, communication.list, count, edit, field.get, field.list, get, list, "
        "member.add, member.field.get, member.field.list, member.move, member.remove, member.set, move, search",
    )
    + _family("mail.mailbox", "field.get, field.list, get, list, senders")
    + _family(
        "mail.message",
        "createcalendarevent, createchat, createcrmactivity, createfeedpost, createtask, field.get, field.list, "
        "forward, get, list, movetofolder, removecrmactivity, reply, send, thread",
    )
    + _family("mail.recipient", "field.get, field.list, listcontacts, listemployees")
    + _family("main.eventlog", "field.get, field.list, get, list, tail")
    + _family("note.collection", "add, archive, delete, field.get, field.list, get, list, update")
    + _family(
        "note.document",
        "add, archive, delete, field.get, field.list, get, search.field.get, search.field.list, search.list, "
        "tree.field.get, tree.field.list, tree.list, update",
    )
    + _family("note.file", "add, field.get, field.list, get")
    + _family(
        "tasks.task",
        "access.field.get, access.field.list, access.get, add, chat.message.field.get, chat.message.field.list, "
        "chat.message.send, delete, field.get, field.list, file.attach, file.field.get, file.field.list, get, list, "
        "result.add, result.addfromchatmessage, result.delete, result.list, result.update, update",
    )
    + _family("timeman.record", "field.get, field.list, list")
)

# Of the v3 methods, these names also exist in v2 (with different params and answers).
ALSO_IN_V2: frozenset[str] = frozenset(_family("tasks.task", "add, get, list, update, delete, result.list"))


def methods_from_openapi(document: Any) -> frozenset[str]:
    """Method names from an OpenAPI document's `paths` keys (`/tasks.task.get` → `tasks.task.get`)."""
    if not isinstance(document, Mapping):
        raise ValueError("the OpenAPI answer is not an object")
    paths = document.get("paths")
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError("the OpenAPI answer has no paths")
    return frozenset(str(k).strip("/").lower() for k in paths if str(k).strip("/"))


Fetcher = Callable[[], Awaitable[Iterable[str] | V3Listing]]
Notice = Callable[[str, str, dict[str, Any]], None]


class V3Registry:
    """The set of v3 methods of one connection: fetched lazily once, cached, built-in list on failure."""

    def __init__(self, fetch: Fetcher | None = None, *, notice: Notice | None = None) -> None:
        self._fetch = fetch
        self._notice = notice
        self._methods: frozenset[str] | None = None
        self._lock: asyncio.Lock | None = None
        self.source: str | None = None
        self.fetches = 0
        self.failure: str | None = None  # why the portal's list could not be read (the built-in one is used)
        self.age: float | None = None  # seconds since the portal's list was read (None: not from the portal)

    def preload(self, methods: Iterable[str], source: str = SOURCE_PORTAL) -> None:
        self._methods = frozenset(m.lower() for m in methods)
        self.source = source

    @property
    def loaded(self) -> bool:
        return self._methods is not None

    async def methods(self) -> frozenset[str]:
        if self._methods is not None:
            return self._methods
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._methods is None:
                await self._load()
        assert self._methods is not None
        return self._methods

    async def _load(self) -> None:
        if self._fetch is None:
            self.preload(BUILTIN_V3_METHODS, SOURCE_BUILTIN)
            return
        self.fetches += 1
        try:
            found = await self._fetch()
        except asyncio.CancelledError:
            raise
        except NoRestV3:
            self.preload((), SOURCE_NONE)
            return
        except Exception as exc:
            self.preload(BUILTIN_V3_METHODS, SOURCE_BUILTIN)
            self.failure = getattr(exc, "code", None) or type(exc).__name__
            if self._notice:
                self._notice(
                    "V3_METHODS_FALLBACK",
                    "Could not read the portal's REST v3 method list (rest.documentation.openapi); "
                    "using the built-in list of documented v3 methods",
                    {"reason": self.failure},
                )
            return
        if isinstance(found, V3Listing):
            self.preload(found.methods, found.source)
            self.age = found.age
        else:
            self.preload(found, SOURCE_PORTAL)
            self.age = 0.0

    def known(self, method: str) -> bool:
        """Whether `method` is in the loaded list (False before it is loaded)."""
        return self._methods is not None and method.lower() in self._methods

    async def contains(self, method: str) -> bool:
        return method.lower() in await self.methods()

    def known_in_v2(self, method: str) -> bool:
        return method.lower() in ALSO_IN_V2
