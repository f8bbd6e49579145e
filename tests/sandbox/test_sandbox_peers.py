"""Independent oracles: the official Python SDK and fast_bitrix24 list every deal of the sandbox.

Every id once, none missing, for 120, 2,551 and 10,000 deals.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from b24explorer.sandbox import Sandbox

pytest.importorskip("b24pysdk")
pytest.importorskip("fast_bitrix24")

SIZES = [120, 2551, 10_000]


@pytest.fixture(scope="module")
def portals() -> Iterator[Callable[[int], Sandbox]]:
    made: dict[int, Sandbox] = {}

    def get(deals: int) -> Sandbox:
        if deals not in made:
            made[deals] = Sandbox(seed=deals, deals=deals, plan="unlimited").start()
        portal = made[deals]
        portal.reset()
        return portal

    yield get
    for portal in made.values():
        portal.stop()


def store_ids(sandbox: Sandbox) -> list[int]:
    return list(sandbox.store.deals.ids)


def b24pysdk_client(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from b24pysdk import BitrixWebhook, Client

    # The SDK hard-codes https://; the documented way to aim it at a plain-http loopback portal.
    caller = importlib.import_module("b24pysdk.api.callers.call_method")
    base = f"{sandbox.base_url}/rest"
    monkeypatch.setattr(caller._MethodCaller, "_base_url", property(lambda self: base))
    token = BitrixWebhook(domain="sandbox.test", webhook_token=f"1/{sandbox.secret}")
    return Client(token)


def assert_every_id_once(items: list[dict], sandbox: Sandbox) -> None:
    ids = [int(item["ID"]) for item in items]
    assert len(ids) == len(set(ids)), "an id came twice"
    assert sorted(ids) == store_ids(sandbox)


@pytest.mark.parametrize("deals", SIZES)
def test_b24pysdk_as_list(portals: Callable[[int], Sandbox], monkeypatch: pytest.MonkeyPatch, deals: int) -> None:
    sandbox = portals(deals)
    client = b24pysdk_client(sandbox, monkeypatch)
    items = list(client.crm.deal.list(select=["ID", "TITLE"]).as_list().result)
    assert_every_id_once(items, sandbox)
    pages = -(-deals // 50)
    assert sandbox.counters.requests() == 1 + -(-(pages - 1) // 50)


@pytest.mark.parametrize("deals", SIZES)
def test_b24pysdk_as_list_fast(portals: Callable[[int], Sandbox], monkeypatch: pytest.MonkeyPatch,
                               deals: int) -> None:
    sandbox = portals(deals)
    client = b24pysdk_client(sandbox, monkeypatch)
    items = list(client.crm.deal.list(select=["ID", "TITLE"]).as_list_fast().result)
    assert_every_id_once(items, sandbox)
    expected_requests = 1 if deals < 50 else 2 + (deals - 50) // 2500
    assert sandbox.counters.requests() == expected_requests


def test_b24pysdk_call_batch(portals: Callable[[int], Sandbox], monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = portals(120)
    client = b24pysdk_client(sandbox, monkeypatch)
    response = client.call_batch({f"d{i}": client.crm.deal.get(bitrix_id=i) for i in (1, 2, 3)})
    result = response.result
    got = {label: item["TITLE"] for label, item in result.result.items()}
    assert got == {f"d{i}": sandbox.store.deals.rows[i]["TITLE"] for i in (1, 2, 3)}
    assert sandbox.counters.requests("batch") == 1


def fast_client(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    from fast_bitrix24 import Bitrix

    return Bitrix(sandbox.webhook_url, verbose=False, ssl=False)


@pytest.mark.parametrize("deals", SIZES)
def test_fast_bitrix24_get_all(portals: Callable[[int], Sandbox], deals: int) -> None:
    sandbox = portals(deals)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fast_bitrix24 warns when the count disagrees with `total`
        items = fast_client(sandbox).get_all("crm.deal.list", {"select": ["ID", "TITLE"]})
    assert_every_id_once(items, sandbox)
    pages = -(-deals // 50)
    assert sandbox.counters.requests() == 1 + -(-(pages - 1) // 50)


def test_fast_bitrix24_call_and_call_batch(portals: Callable[[int], Sandbox]) -> None:
    sandbox = portals(120)
    bx = fast_client(sandbox)
    single = bx.call("crm.deal.get", {"id": 7}, raw=True)
    assert single["result"]["TITLE"] == sandbox.store.deals.rows[7]["TITLE"]
    # one dict (not raw) travels as a one-command batch keyed by fast_bitrix24's own label
    wrapped = bx.call("crm.deal.get", {"id": 8})
    assert [item["ID"] for item in wrapped.values()] == ["8"]
    many = bx.call("crm.deal.get", [{"id": i} for i in range(1, 61)])
    assert sorted(int(d["ID"]) for d in many) == list(range(1, 61))
    batch = bx.call_batch({"halt": 0, "cmd": {"a": "crm.deal.get?id=3", "b": "crm.deal.list?filter[>ID]=$result[a][ID]"}})
    assert batch["a"]["ID"] == "3"
    assert batch["b"][0]["ID"] == "4"
    assert urlsplit(sandbox.webhook_url).hostname == "127.0.0.1"
