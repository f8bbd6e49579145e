"""Fixtures of the core services' tests (paths, vault, settings, history)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import keyring
import pytest


@pytest.fixture(autouse=True)
def _real_keyring_gate(request: pytest.FixtureRequest) -> None:
    """``real_keyring`` tests run only inside the test D-Bus session (``B24X_REAL_KEYRING=1``).

    Elsewhere they skip — except in CI, where a skipped real-keyring test would hide a broken setup.
    """
    if request.node.get_closest_marker("real_keyring") is None:
        return
    if os.environ.get("B24X_REAL_KEYRING") == "1":
        return
    reason = "needs a real Secret Service: run through scripts/run-tests (sets B24X_REAL_KEYRING=1)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real keyring tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Confines every directory the app writes to under one temporary home."""
    home = tmp_path / "home"
    monkeypatch.setenv("B24X_HOME", str(home))
    return home


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    """Tests that swap the keyring backend put the original one back."""
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def reference() -> Iterator[str]:
    """A fresh keyring reference; its entry (if a test made one in the real keyring) is deleted afterwards."""
    from b24explorer.core import vault

    ref = vault.new_reference()
    yield ref
    if os.environ.get("B24X_REAL_KEYRING") == "1":
        with suppress(vault.VaultError):
            vault.delete_webhook(ref, timeout=10)
