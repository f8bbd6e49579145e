"""The method picker's data: hints, merging the portal's answers, search and grouping."""

from __future__ import annotations

import asyncio
import json

import pytest

from b24explorer.core import B24Client, Webhook
from b24explorer.core.catalog import RECENT_GROUP, Catalog, match_rank, scope_of, template_from_schema
from b24explorer.core.hints import HINTS, hint
from b24explorer.core.v3 import BUILTIN_V3_METHODS
from b24explorer.sandbox import Sandbox

# ------------------------------------------------------------------ hints


def test_hints_are_complete_and_consistent() -> None:
    names = [h.name for h in HINTS]
    assert len(names) == len(set(names))
    assert len(HINTS) >= 60
    for h in HINTS:
        assert h.scope
        assert 10 <= len(h.description) <= 120, h.name
        assert h.in_v2 or h.in_v3, h.name
        json.dumps(h.template(2))
        json.dumps(h.template(3))
        if h.name != "rest.documentation.openapi":
            assert h.doc_url().startswith("https://apidocs.bitrix24.com/"), h.name
            assert h.doc_url().endswith(".html"), h.name
        if h.name in BUILTIN_V3_METHODS:
            assert h.in_v3, h.name
    for family in ("crm.item.", "crm.deal.", "crm.contact.", "crm.company.", "crm.lead.", "tasks.task.", "user.",
                   "department.", "im.", "disk.", "main.eventlog."):
        assert any(n.startswith(family) for n in names), family
    for name in ("batch", "profile", "server.time", "methods", "scope", "method.get"):
        assert hint(name) is not None


def test_tasks_hints_differ_per_api() -> None:
    get = hint("tasks.task.get")
    assert get is not None
    assert get.template(2) == {"taskId": 1, "select": ["ID", "TITLE"]}
    assert get.template(3) == {"id": 1, "select": ["id", "title"]}
    assert get.doc_url(3).endswith("tasks-task-get-rest-v3.html")
    assert get.doc_url(2).endswith("tasks-task-get.html")
    only_v3 = hint("main.eventlog.tail")
    assert only_v3 is not None
    assert not only_v3.in_v2
    assert only_v3.template(2) == only_v3.template(3)  # falls back to the API it exists in


# ------------------------------------------------------------------ matching and search


@pytest.mark.parametrize(
    ("query", "name", "rank"),
    [
        ("crm.deal.list", "crm.deal.list", 0),
        ("CRM.DE", "crm.deal.list", 1),
        ("deal.li", "crm.deal.list", 2),
        ("list", "crm.deal.list", 2),
        ("eal.li", "crm.deal.list", 3),
        ("cdl", "crm.deal.list", 4),
        ("deal list", "crm.deal.list", 2),
        ("xyz", "crm.deal.list", None),
        ("", "anything", 0),
    ],
)
def test_match_rank(query: str, name: str, rank: int | None) -> None:
    assert match_rank(query, name) == rank


def test_description_matches_rank_last() -> None:
    assert match_rank("pipelines", "crm.category.list", "Pipelines (categories) of a CRM entity type") == 5


def test_search_finds_fragments_best_first() -> None:
    cat = Catalog()
    assert cat.search("deal.li")[0].name == "crm.deal.list"
    assert [e.name for e in cat.search("crm.deal.")][:6] == sorted(
        ["crm.deal.add", "crm.deal.get", "crm.deal.list", "crm.deal.fields", "crm.deal.update", "crm.deal.delete"],
        key=lambda n: (len(n), n),
    )
    assert cat.search("server.time")[0].name == "server.time"
    assert cat.search("pipelines")[0].name == "crm.category.list"
    assert cat.search("eventlog tail")[0].name == "main.eventlog.tail"
    assert cat.search("qqqqq") == []
    assert len(cat.search("", limit=5)) == 5


def test_recently_used_come_first_within_a_rank() -> None:
    cat = Catalog()
    plain = [e.name for e in cat.search("deal.")]
    recent = ["crm.deal.update", "crm.deal.get"]
    ranked = [e.name for e in cat.search("deal.", recent=recent)]
    assert ranked[:2] == recent
    assert sorted(ranked) == sorted(plain)
    assert next(e.name for e in cat.search("", recent=["user.get"])) == "user.get"


def test_api_filter() -> None:
    cat = Catalog()
    v3 = {e.name for e in cat.search("", api=3)}
    assert "main.eventlog.list" in v3
    assert "tasks.task.get" in v3
    assert "crm.deal.list" not in v3
    v2 = {e.name for e in cat.search("", api=2)}
    assert "main.eventlog.list" not in v2
    assert "tasks.task.get" in v2
    assert {e.name for e in cat} >= BUILTIN_V3_METHODS  # the documented v3 list is always pickable


def test_grouped_by_scope_with_recent_first() -> None:
    cat = Catalog()
    groups = cat.grouped("", recent=["crm.deal.get", "profile"])
    assert groups[0].title == RECENT_GROUP
    assert [e.name for e in groups[0].entries] == ["crm.deal.get", "profile"]
    titles = [g.title for g in groups[1:]]
    assert titles[0] == "basic"
    assert titles[1:] == sorted(titles[1:])
    assert {"crm", "task", "user", "im", "disk", "main"} <= set(titles)
    for g in groups[1:]:
        assert all(e.scope == g.title for e in g.entries)
    best_first = cat.grouped("deal.li")
    assert best_first[0].title == "crm"
    assert best_first[0].entries[0].name == "crm.deal.list"


def test_scope_of() -> None:
    assert scope_of("crm.deal.list") == "crm"
    assert scope_of("tasks.task.get") == "task"
    assert scope_of("server.time") == "basic"
    assert scope_of("sonet_group.get") == "sonet_group"


# ------------------------------------------------------------------ merging portal answers


def test_merge_methods_and_scopes() -> None:
    cat = Catalog()
    assert cat.get("crm.deal.list").available is None  # type: ignore[union-attr]
    new = cat.merge_methods(["crm.deal.list", "crm.deal.get", "sonet_group.get", "Profile"])
    assert new == 1
    assert cat.get("sonet_group.get").scope == "sonet_group"  # type: ignore[union-attr]
    assert cat.get("crm.deal.list").available is True  # type: ignore[union-attr]
    assert cat.get("crm.lead.list").available is False  # type: ignore[union-attr]
    assert cat.get("profile").available is True  # type: ignore[union-attr]
    assert "crm.lead.list" not in {e.name for e in cat.search("lead", only_available=True)}

    scoped = Catalog()
    scoped.merge_scopes(["crm"])
    assert scoped.get("crm.lead.list").available is True  # type: ignore[union-attr]
    assert scoped.get("user.get").available is False  # type: ignore[union-attr]
    assert scoped.get("server.time").available is True  # type: ignore[union-attr]


def test_merge_openapi_schemas_become_templates() -> None:
    document = {
        "openapi": "3.0.0",
        "paths": {
            "/shop.order.add": {"post": {
                "tags": ["shop"], "summary": "Create an order\nmore text",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["fields"],
                    "properties": {
                        "fields": {"$ref": "#/components/schemas/Order"},
                        "notify": {"type": "boolean"},
                        "mode": {"type": "string", "enum": ["fast", "safe"]},
                        "pagination": {"type": "object", "required": ["limit"],
                                       "properties": {"limit": {"type": "integer", "minimum": 1},
                                                      "page": {"type": "integer"}}},
                    }}}}},
            }},
            "/shop.order.get": {"get": {"parameters": [{"name": "id", "in": "query", "schema": {"type": "integer"}}]}},
            "/tasks.task.get": {"post": {"tags": ["tasks"], "requestBody": {"content": {"application/json": {
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}},
        },
        "components": {"schemas": {"Order": {"allOf": [
            {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"},
                                                                     "note": {"type": "string"}}},
            {"type": "object", "required": ["sum"], "properties": {"sum": {"type": "number", "example": 9.5}}},
        ]}}},
    }
    cat = Catalog()
    assert cat.merge_openapi(document) == 3
    order = cat.get("shop.order.add")
    assert order is not None
    assert (order.in_v3, order.in_v2, order.scope, order.description) == (True, False, "shop", "Create an order")
    assert order.template(3) == {"fields": {"title": "", "sum": 9.5}, "notify": False, "mode": "fast",
                                 "pagination": {"limit": 1}}
    assert json.loads(order.template_text(3)) == order.template(3)
    assert cat.get("shop.order.get").template(3) == {"id": 0}  # type: ignore[union-attr]
    tasks = cat.get("tasks.task.get")
    assert tasks is not None
    assert tasks.in_v2  # a hint says so; the OpenAPI does not take that away
    assert tasks.template(3) == {"id": 1, "select": ["id", "title"]}  # the hand-written template wins
    assert cat.get("main.eventlog.list").available is False  # type: ignore[union-attr]  # not in this portal
    with pytest.raises(ValueError, match="no paths"):
        cat.merge_openapi({"openapi": "3.0.0"})


def test_template_from_schema_guards_recursion() -> None:
    components = {"Node": {"type": "object", "required": ["child"], "properties": {"child": {"$ref": "#/components/schemas/Node"}}}}
    value = template_from_schema({"$ref": "#/components/schemas/Node"}, components)
    assert isinstance(value, dict)  # terminates, no RecursionError


async def test_catalog_from_a_real_portal(sb: Sandbox) -> None:
    hook = Webhook.parse(sb.add_webhook(user_id=1, scopes=["crm"]))
    async with B24Client(hook) as client:
        methods = (await client.call("methods")).result
        scopes = (await client.call("scope")).result
        openapi = (await client.call("rest.documentation.openapi", api=3)).result
    cat = Catalog()
    cat.merge_methods(methods)
    cat.merge_scopes(scopes)
    assert cat.merge_openapi(openapi) >= 3
    assert cat.get("crm.deal.list").available is True  # type: ignore[union-attr]
    assert cat.get("user.get").available is False  # type: ignore[union-attr]  # this webhook has crm only
    eventlog = cat.get("main.eventlog.tail")
    assert eventlog is not None
    assert eventlog.in_v3
    assert "cursor" in eventlog.template(3)
    assert cat.search("deal.li")[0].name == "crm.deal.list"


async def test_load_for_a_connection_fetches_the_openapi_once(sb: Sandbox) -> None:
    from b24explorer.core.catalog import load_for

    sb.counters.reset()
    async with B24Client(Webhook.parse(sb.webhook_url)) as client:
        cat = await load_for(client)
        assert cat.notices == []
        assert client.v3.loaded  # primed from the catalog's fetch …
        await client.call("tasks.task.get", {"taskId": 1})  # … so the v3 check of a v2 call needs no fetch
    assert sb.counters.requests("rest.documentation.openapi") == 1
    deal = cat.get("crm.deal.list")
    assert deal is not None
    assert (deal.v2, deal.v3, deal.title, deal.available) == (True, False, deal.description, True)
    assert deal.docs_url.endswith("crm-deal-list.html")
    tail = cat.get("main.eventlog.tail")
    assert tail is not None
    assert (tail.v2, tail.v3) == (False, True)


async def test_load_for_survives_a_portal_that_refuses(sb: Sandbox) -> None:
    from b24explorer.core.catalog import load_for

    sb.faults.add(kind="status", method="rest.documentation.openapi", count=1, status=500, code="INTERNAL_SERVER_ERROR")
    sb.faults.add(kind="status", method="scope", count=1, status=403, code="insufficient_scope")
    async with B24Client(Webhook.parse(sb.webhook_url)) as client:
        cat = await load_for(client)
    assert any(n.startswith("rest.documentation.openapi") for n in cat.notices)
    assert any(n.startswith("scope") for n in cat.notices)
    assert cat.get("crm.deal.list").available is True  # type: ignore[union-attr]  # from `methods`
    assert cat.search("deal.li")[0].name == "crm.deal.list"


def test_hint_template_text() -> None:
    from b24explorer.core.hints import template_text

    assert json.loads(template_text("crm.deal.get")) == {"id": 1}
    assert json.loads(template_text("TASKS.TASK.GET", 3)) == {"id": 1, "select": ["id", "title"]}
    assert template_text("no.such.method") == "{}"


async def test_a_call_and_the_catalog_share_one_openapi_fetch(sb: Sandbox) -> None:
    """A v2 call sent while the method list loads (the window's first send): its migration check and the
    catalog wait on the same look-up of the portal's v3 methods instead of asking twice."""
    from b24explorer.core.catalog import load_for

    sb.counters.reset()
    async with B24Client(Webhook.parse(sb.webhook_url)) as client:
        res, cat = await asyncio.gather(client.call("crm.deal.list", {"select": ["ID"]}), load_for(client))
    assert res.is_success
    assert cat.notices == []
    assert sb.counters.requests("rest.documentation.openapi") == 1
    tail = cat.get("main.eventlog.tail")
    assert tail is not None
    assert tail.v3


async def test_the_catalog_says_why_the_shared_look_up_failed(sb: Sandbox) -> None:
    from b24explorer.core.catalog import load_for

    sb.faults.add(kind="status", method="rest.documentation.openapi", count=1, status=500, code="INTERNAL_SERVER_ERROR")
    async with B24Client(Webhook.parse(sb.webhook_url)) as client:
        res, cat = await asyncio.gather(client.call("crm.deal.list", {"select": ["ID"]}), load_for(client))
    assert res.is_success
    assert any(n.startswith("rest.documentation.openapi") for n in cat.notices)
    assert sb.counters.requests("rest.documentation.openapi") == 1
