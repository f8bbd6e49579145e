"""Keyring backends for the UI and CLI tests: installed explicitly with ``keyring.set_keyring``, never chosen by keyring."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.errors
from jaraco.classes import properties


class TestOnlyBackend(keyring.backend.KeyringBackend):
    """A backend installed explicitly by a test; never "viable", so keyring never picks or chains it itself."""

    @properties.classproperty
    def priority(cls) -> float:  # type: ignore[override]
        # AttributeError: keyring's viability check treats it as "not viable", getattr(b, "priority", …) as absent
        raise AttributeError("a test-only keyring backend has no priority")


class MemoryKeyring(TestOnlyBackend):
    """A keyring that forgets everything at exit — for tests that are not about the real backend."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("no such entry")
        del self.items[(service, username)]


class LockedKeyring(TestOnlyBackend):
    """Behaves like a Secret Service whose collection cannot be unlocked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class DismissedPromptKeyring(TestOnlyBackend):
    """Behaves like a Secret Service whose unlock prompt the user dismissed (or that could not be shown)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")


@contextlib.contextmanager
def memory_keyring_installed() -> Iterator[MemoryKeyring]:
    """A fresh MemoryKeyring as keyring's backend for the block; the previous backend is put back after it."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
