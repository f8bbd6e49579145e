"""Keyring backends that fail the way real ones do, for the keyring failure-mode tests.

Each raises exactly what keyring's Secret Service backend raises in that situation (see its
`get_preferred_collection`): `KeyringLocked("Failed to unlock the collection!")` when the collection stays locked,
`InitError("Failed to create the collection: Prompt dismissed.")` when the unlock/create prompt is dismissed.
"No backend" is keyring's own `fail.Keyring`. They are installed explicitly and never chosen by keyring itself.
"""

from __future__ import annotations

import keyring.backend
import keyring.errors
from keyring_backends import MemoryKeyring as DictKeyring  # a working keyring in memory
from keyring_backends import TestOnlyBackend

__all__ = ["DictKeyring", "RaisingKeyring", "locked", "no_backend", "prompt_dismissed"]


class RaisingKeyring(TestOnlyBackend):
    """Every operation raises `error` (a fresh instance each time)."""

    def __init__(self, make_error: type[Exception], text: str) -> None:
        super().__init__()
        self._make_error = make_error
        self._text = text

    def _fail(self) -> None:
        raise self._make_error(self._text)

    def get_password(self, service: str, username: str) -> str | None:
        self._fail()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fail()

    def delete_password(self, service: str, username: str) -> None:
        self._fail()


def locked() -> RaisingKeyring:
    return RaisingKeyring(keyring.errors.KeyringLocked, "Failed to unlock the collection!")


def prompt_dismissed() -> RaisingKeyring:
    return RaisingKeyring(keyring.errors.InitError, "Failed to create the collection: Prompt dismissed.")


def no_backend() -> keyring.backend.KeyringBackend:
    from keyring.backends import fail

    return fail.Keyring()
