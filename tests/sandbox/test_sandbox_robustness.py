"""Bad input never kills the server nor shows a traceback; loopback only; many keep-alive clients at once."""

from __future__ import annotations

import asyncio
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24explorer.sandbox import Sandbox


def raw_request(sb: Sandbox, data: bytes, read_timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=read_timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


_PLAIN = httpx.Client(verify=False)  # one client for quick liveness probes: building a client costs ~0.1 s


def assert_alive(sb: Sandbox) -> None:
    assert _PLAIN.post(sb.webhook_url + "profile").status_code == 200


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b"{not json"),
    ("application/json", b"\xff\xfe\x00garbage"),
    ("application/json", b'"just a string"'),
    ("application/json", b"[" * 100_000),
    ("text/plain", b"hello there"),
    ("application/x-www-form-urlencoded", b"\xff\xfe=\xfa"),
    ("multipart/form-data", b"--x\r\nbroken"),
    ("multipart/form-data; boundary=zz", b"no parts at all"),
    ("application/octet-stream", bytes(range(256)) * 10),
    ("", b"\x00\x01\x02"),
])
def test_garbage_bodies_get_protocol_errors(sb: Sandbox, content_type: str, body: bytes) -> None:
    r = _PLAIN.post(sb.webhook_url + "crm.deal.list", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 400
    assert set(r.json()) == {"error", "error_description"}
    assert "Traceback" not in r.text
    assert_alive(sb)


def test_deep_bracket_keys(http: httpx.Client, sb: Sandbox) -> None:
    key = "filter" + "[a]" * 5000
    r = http.post("crm.deal.list", content=f"{key}=1".encode(),
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (200, 400)
    assert "Traceback" not in r.text
    assert_alive(sb)


def test_json_list_body_is_positional_params(http: httpx.Client) -> None:
    r = http.post("server.time", json=[1, {"a": 2}])
    assert r.status_code == 200


def test_huge_body_is_refused_with_413(sb: Sandbox) -> None:
    head = (f"POST /rest/1/{sb.secret}/crm.deal.list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {sb.portal.max_body_bytes + 1}\r\n\r\n").encode()
    answer = raw_request(sb, head + b"{")
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"REQUEST_ENTITY_TOO_LARGE" in answer
    assert_alive(sb)


def test_huge_body_through_httpx(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox = make_sandbox(deals=1, max_body_bytes=1024)
    with httpx.Client() as c:
        try:
            r = c.post(sandbox.webhook_url + "crm.deal.list", content=b"x" * 200_000)
        except httpx.TransportError:
            pass  # the server may close before the whole body is written; that is fine too
        else:
            assert r.status_code == 413
    assert_alive(sandbox)


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS ClientHello on plain http
    b"POST /rest/1/x/profile HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /rest/1/x/profile HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /rest/1/x/profile HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
    b"",
])
def test_malformed_http(sb: Sandbox, data: bytes) -> None:
    answer = raw_request(sb, data, read_timeout=2.0)
    assert b"Traceback" not in answer
    assert_alive(sb)


def test_chunked_body_is_read(sb: Sandbox) -> None:
    body = json.dumps({"id": 2}).encode()
    data = (f"POST /rest/1/{sb.secret}/crm.deal.get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{len(body):x}\r\n").encode() + body + b"\r\n0\r\n\r\n"
    answer = raw_request(sb, data)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b'"ID":"2"' in answer


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_http_verbs(sb: Sandbox, verb: str) -> None:
    assert _PLAIN.request(verb, sb.webhook_url + "profile").status_code == 200
    assert _PLAIN.head(sb.webhook_url + "profile").status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["crm.deal.list", "batch", "crm.item.list", "user.get", "tasks.task.list",
                               "crm.deal.add", "department.get"]),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=b", "text/plain", ""]),
       body=st.one_of(st.binary(max_size=300),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                   lambda inner: st.lists(inner, max_size=4)
                                   | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                                   max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_fuzzed_requests_never_crash(sb: Sandbox, method: str, content_type: str, body: bytes) -> None:
    r = _PLAIN.post(sb.webhook_url + method, content=body, headers={"Content-Type": content_type})
    assert r.status_code in (200, 400, 404, 405), r.text
    data = r.json()
    assert "result" in data or "error" in data


def test_fuzzed_batch_commands(http: httpx.Client) -> None:
    cmds = {"a": "crm.deal.list?filter[>ID]=$result[", "b": "?", "c": "", "d": "crm.deal.get?id=$result[a][x][y][z]",
            "e": "crm.deal.list?order[ID]=SIDEWAYS&start=abc", "f": "crm.deal.list?filter=notadict&select=ID",
            "g": "crm.deal.list?filter[0][LOGIC]=OR&filter[0][0][ID]=1&filter[0][1][ID]=2"}
    r = http.post("batch", json={"cmd": cmds})
    assert r.status_code == 200
    out = r.json()["result"]
    assert [d["ID"] for d in out["result"]["g"]] == ["1", "2"]
    assert http.post("batch", json={"cmd": "not a map"}).status_code == 200
    assert http.post("batch", json={"cmd": [None, 5, {"x": 1}]}).status_code == 200


def test_concurrent_keepalive_httpx(sb: Sandbox) -> None:
    with httpx.Client(limits=httpx.Limits(max_connections=16, max_keepalive_connections=16)) as c:
        def one(i: int) -> int:
            r = c.post(sb.webhook_url + "crm.deal.get", json={"id": i % 150 + 1})
            return int(r.json()["result"]["ID"])

        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(one, range(400)))
    assert got == [i % 150 + 1 for i in range(400)]


async def test_concurrent_keepalive_httpx_async_and_aiohttp(sb: Sandbox) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    async with httpx.AsyncClient() as hx, aiohttp.ClientSession() as session:
        async def via_httpx(i: int) -> str:
            r = await hx.post(sb.webhook_url + "crm.deal.get", json={"id": i})
            return r.json()["result"]["ID"]

        async def via_aiohttp(i: int) -> str:
            async with session.post(sb.webhook_url + "crm.deal.get", json={"id": i}) as r:
                return (await r.json())["result"]["ID"]

        for _ in range(3):
            got = await asyncio.gather(*(via_httpx(i) for i in range(1, 51)), *(via_aiohttp(i) for i in range(1, 51)))
            assert got == [str(i) for i in range(1, 51)] * 2


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "10.0.0.1", "::"])
def test_non_loopback_host_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(deals=1, host=host)


def test_localhost_and_ipv6_loopback() -> None:
    with Sandbox(deals=1, host="localhost") as s:
        assert s.webhook_url.startswith("http://127.0.0.1:")
        assert_alive(s)
    if socket.has_ipv6:
        try:
            six = Sandbox(deals=1, host="::1").start()
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
        try:
            assert six.webhook_url.startswith("http://[::1]:")
            with httpx.Client() as c:
                assert c.post(six.webhook_url + "profile").status_code == 200
        finally:
            six.stop()


def test_stop_and_restart_is_clean() -> None:
    s = Sandbox(deals=1)
    s.start()
    url = s.webhook_url
    with httpx.Client() as c:
        assert c.post(url + "profile").status_code == 200
        s.stop()
        s.stop()  # idempotent
        with pytest.raises(httpx.TransportError):
            c.post(url + "profile")


def test_deeply_nested_filter_is_a_clean_400(sb: Sandbox) -> None:
    flt: dict = {"ID": 1}
    for _ in range(600):
        flt = {"0": flt}
    body = json.dumps({"filter": flt})
    r = _PLAIN.post(sb.webhook_url + "crm.deal.list", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 400)
    assert "error" in r.json() or r.json()["result"][0]["ID"] == "1"
    assert_alive(sb)
