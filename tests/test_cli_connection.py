"""`b24x connection list | add | rename | remove`: saved connections managed without the window; the webhook
comes from the environment or stdin, never from an argument."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import b24x
from keyring_backends import MemoryKeyring, memory_keyring_installed

from b24explorer.cli import main
from b24explorer.sandbox import Sandbox


@pytest.fixture
def memory_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.setenv("B24X_HOME", str(tmp_path / "home"))
    with memory_keyring_installed() as backend:
        yield backend



def listed(*extra: str) -> list[dict[str, object]]:
    code, out, _ = b24x("connection", "list", "--json", *extra)
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_add_from_stdin_or_the_environment_rename_and_remove(sb: Sandbox, memory_keyring: MemoryKeyring) -> None:
    code, out, err = b24x("connection", "add", "Prod", stdin=sb.webhook_url + "\n")
    assert code == 0, err
    prod_id = out.strip()
    assert memory_keyring.items == {(next(iter(memory_keyring.items))[0], prod_id): sb.webhook_url}
    code, out, _ = b24x("connection", "add", "Other", "--limits", "enterprise",
                        environ={"B24X_WEBHOOK": sb.add_webhook(user_id=1, scopes=["crm"])})
    assert code == 0
    assert [(c["name"], c["limits"], c["user_id"]) for c in listed()] == [("Prod", "standard", 1),
                                                                         ("Other", "enterprise", 1)]

    # A call through the profile is recorded under its id; the rename changes nothing in the history.
    assert b24x("call", "server.time", "--profile", "Prod")[0] == 0
    assert b24x("connection", "rename", "Prod", "Production")[0] == 0
    code, out, _ = b24x("history", "--json")
    [entry] = [json.loads(line) for line in out.splitlines()]
    assert (entry["connection"], entry["connection_id"]) == ("Production", prod_id)
    assert listed()[0]["id"] == prod_id

    assert b24x("connection", "remove", prod_id)[0] == 0  # by id as well as by name
    assert [c["name"] for c in listed()] == ["Other"]
    assert prod_id not in [ref for _service, ref in memory_keyring.items]


def test_the_webhook_is_never_an_argument(sb: Sandbox, memory_keyring: MemoryKeyring,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):  # argparse refuses it: it would land in the shell's history
        main(["connection", "add", "Prod", "--webhook", sb.webhook_url])
    assert sb.secret not in capsys.readouterr().out
    code, out, err = b24x("connection", "add", "Prod")
    assert (code, out) == (2, "")
    assert "B24X_WEBHOOK" in err
    code, _, err = b24x("connection", "add", "Prod", stdin="http://portal.example/rest/1/s3cretvalue1/\n")
    assert code == 2
    assert "HTTPS" in err.upper()
    assert "s3cretvalue1" not in err
    assert memory_keyring.items == {}


def test_bad_names_are_bad_input(sb: Sandbox, memory_keyring: MemoryKeyring) -> None:
    assert b24x("connection", "add", "Prod", stdin=sb.webhook_url)[0] == 0
    code, _, err = b24x("connection", "add", "Prod", stdin=sb.webhook_url)
    assert code == 2
    assert "already exists" in err
    code, _, err = b24x("connection", "rename", "Nobody", "X")
    assert code == 2
    assert "No connection" in err
    assert b24x("connection", "remove", "Nobody")[0] == 2
    assert [c["name"] for c in listed()] == ["Prod"]


def test_b24x_loads_no_qt() -> None:
    import subprocess
    import sys

    probe = ("import sys, b24explorer.cli; "
             "loaded = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync')]; "
             "assert not loaded, loaded; assert 'b24explorer.ui' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
