"""Webhooks in the OS keyring — and nowhere else.

One keyring entry per connection: service ``b24explorer``, username = the connection's keyring reference (a
random id, never the connection's name), password = the webhook URL. Every failure is turned into a
:class:`VaultError` subclass that names the cause and what to do; the UI shows it and may offer
"use for this run only (not saved)", which keeps the webhook in :class:`SessionSecrets` (process memory).
There is no plain-text fallback, on purpose: an insecure file backend counts as "no backend".

Keyring calls block (D-Bus round trips, and on a desktop an unlock prompt that can wait forever), so each
has an async twin that runs it in a worker thread with a timeout. The worker is a daemon thread rather than
the default executor: a call stuck behind a prompt must not keep the process alive at exit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    import asyncio

    import keyring.backend

SERVICE = "b24explorer"
DEFAULT_TIMEOUT = 15.0  # async calls (the UI): a prompt that needs longer can be retried
SYNC_TIMEOUT = 60.0  # blocking calls (the CLI): time to type a keyring password, but never forever

T = TypeVar("T")


# ---------------------------------------------------------------- errors


class VaultError(Exception):
    """A keyring operation failed. ``message`` names the cause, ``action`` says what the user can do."""

    kind: ClassVar[str] = "error"
    #: whether "use for this run only (not saved)" is a sensible way out
    offer_session_only: ClassVar[bool] = True

    def __init__(self, message: str, action: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.detail = detail  # the backend's own words, for the log; never holds a secret

    def __str__(self) -> str:
        return f"{self.message} {self.action}"


class NoBackendError(VaultError):
    kind = "no_backend"


class KeyringLockedError(VaultError):
    kind = "locked"


class PromptDismissedError(VaultError):
    kind = "prompt_dismissed"


class EntryMissingError(VaultError):
    kind = "entry_missing"
    offer_session_only = False  # the user must paste the webhook again (then it may be saved again)


class VaultTimeoutError(VaultError):
    kind = "timeout"


class VaultBackendError(VaultError):
    kind = "backend_error"


def _no_backend(detail: str) -> NoBackendError:
    return NoBackendError(
        "No secure password store (keyring) is available, so the webhook cannot be saved.",
        "Start your desktop's keyring service (GNOME Keyring, KWallet, macOS Keychain, Windows Credential "
        "Manager) and try again, or use the webhook for this run only — it is never written to disk in "
        "plain text.",
        detail,
    )


def _locked(detail: str) -> KeyringLockedError:
    return KeyringLockedError(
        "The keyring is locked and could not be unlocked.",
        "Unlock your keyring (log in to the desktop session or open your password manager) and try again, "
        "or use the webhook for this run only.",
        detail,
    )


def _prompt_dismissed(detail: str) -> PromptDismissedError:
    return PromptDismissedError(
        "The keyring asked for permission or a password and the prompt was dismissed "
        "(or could not be shown).",
        "Try again and accept the keyring prompt, or use the webhook for this run only.",
        detail,
    )


def _missing(reference: str) -> EntryMissingError:
    return EntryMissingError(
        "The saved webhook of this connection is no longer in the keyring (it was deleted outside "
        f"b24explorer; keyring entry '{reference}').",
        "Edit the connection and paste its webhook URL again.",
    )


def _timeout(seconds: float) -> VaultTimeoutError:
    return VaultTimeoutError(
        f"The keyring did not answer within {seconds:g} s (it may be waiting for an unlock prompt).",
        "Answer the keyring prompt if one is open and try again, or use the webhook for this run only.",
    )


def _other(exc: BaseException) -> VaultBackendError:
    return VaultBackendError(
        f"The keyring reported an error: {type(exc).__name__}.",
        "Check that your keyring service works (e.g. with your password manager) and try again, or use "
        "the webhook for this run only.",
        str(exc),
    )


def classify(exc: BaseException) -> VaultError:
    """Map an exception raised by keyring (or the backend below it) to a :class:`VaultError`."""
    if isinstance(exc, VaultError):
        return exc
    detail = str(exc)
    if isinstance(exc, _keyring().errors.NoKeyringError):
        return _no_backend(detail)
    if isinstance(exc, _keyring().errors.KeyringLocked):
        return _locked(detail)
    if isinstance(exc, _keyring().errors.InitError):
        if "dismiss" in detail.lower():
            return _prompt_dismissed(detail)
        return VaultBackendError(
            "The keyring could not be opened.",
            "Check that your keyring service is running and unlocked, or use the webhook for this run only.",
            detail,
        )
    # secretstorage raises these itself when keyring does not wrap them (item-level prompts)
    name = type(exc).__name__
    if name == "PromptDismissedException":
        return _prompt_dismissed(detail)
    if name == "LockedException":
        return _locked(detail)
    return _other(exc)


# ---------------------------------------------------------------- backend


def _keyring() -> Any:
    """The keyring package, imported on first use (it takes a noticeable part of the app's start)."""
    import keyring
    import keyring.backend
    import keyring.errors

    return keyring


def _is_insecure(backend: keyring.backend.KeyringBackend) -> bool:
    module = type(backend).__module__
    return module.startswith("keyrings.alt") or "plaintext" in type(backend).__name__.lower()


def _usable_backends(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    from keyring.backends import chainer, fail, null

    parts = list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
    return [b for b in parts if not isinstance(b, fail.Keyring | null.Keyring) and not _is_insecure(b)]


def _backend() -> keyring.backend.KeyringBackend:
    """The active backend, or :class:`NoBackendError` when it cannot store a secret safely."""
    backend = _keyring().get_keyring()
    if not _usable_backends(backend):
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        if _is_insecure(backend):
            raise _no_backend(f"refusing the insecure backend {name}")
        raise _no_backend(f"active backend: {name}")
    return backend


def backend_description() -> str:
    """A one-line description of the keyring backend, for the self-test and the about box."""
    try:
        backend = _keyring().get_keyring()
    except Exception as exc:  # keyring's own discovery failing is itself a finding
        return f"no keyring backend ({type(exc).__name__}: {exc})"
    usable = _usable_backends(backend)
    if not usable:
        return f"no keyring backend ({type(backend).__module__}.{type(backend).__name__})"
    return ", ".join(
        f"{type(b).__module__}.{type(b).__name__} (priority {getattr(b, 'priority', '?')})" for b in usable
    )


def has_backend() -> bool:
    try:
        _backend()
    except VaultError:
        return False
    return True


def new_reference() -> str:
    """A fresh keyring reference for a new connection: random, and unrelated to its name."""
    import secrets  # here, not at the top: it loads OpenSSL's hashes, which the app's start does not need

    return "conn-" + secrets.token_hex(8)


# ---------------------------------------------------------------- sync API


def _guard(fn: Callable[[], T], timeout: float | None) -> T:
    if timeout is None:
        try:
            return fn()
        except Exception as exc:
            raise classify(exc) from exc
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="b24x-keyring", daemon=True).start()
    if not done.wait(timeout):
        raise _timeout(timeout)
    failure = box.get("error")
    if isinstance(failure, BaseException):
        raise classify(failure) from failure
    return box["value"]  # type: ignore[return-value]


def save_webhook(reference: str, webhook_url: str, *, timeout: float | None = SYNC_TIMEOUT) -> None:
    """Store (or replace) the webhook of a connection. ``timeout=None`` waits as long as the keyring takes."""
    _check_reference(reference)
    if not webhook_url:
        raise ValueError("webhook_url is empty")

    def op() -> None:
        _backend().set_password(SERVICE, reference, webhook_url)

    _guard(op, timeout)


def read_webhook(reference: str, *, timeout: float | None = SYNC_TIMEOUT) -> str:
    """The webhook of a connection; :class:`EntryMissingError` when the entry is gone."""
    _check_reference(reference)

    def op() -> str | None:
        return _backend().get_password(SERVICE, reference)

    value = _guard(op, timeout)
    if value is None:
        raise _missing(reference)
    return value


def delete_webhook(reference: str, *, missing_ok: bool = True, timeout: float | None = SYNC_TIMEOUT) -> None:
    """Remove a connection's entry. An entry that is already gone is fine unless ``missing_ok=False``."""
    _check_reference(reference)

    def op() -> bool:
        try:
            _backend().delete_password(SERVICE, reference)
        except _keyring().errors.PasswordDeleteError:
            return False
        return True

    if not _guard(op, timeout) and not missing_ok:
        raise _missing(reference)


def _check_reference(reference: str) -> None:
    if not reference or not isinstance(reference, str):
        raise ValueError("a keyring reference is required")


# ---------------------------------------------------------------- async API


async def _in_thread(fn: Callable[[], T], timeout_s: float) -> T:
    import asyncio  # here, not at the top: the app's window paints before asyncio loads

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(value: object, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(classify(error))
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            value, error = fn(), None
        except BaseException as exc:
            value, error = None, exc
        # RuntimeError: the loop closed while the keyring was stuck; nobody waits any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, value, error)

    threading.Thread(target=work, name="b24x-keyring", daemon=True).start()
    try:
        return await asyncio.wait_for(future, timeout_s)
    except TimeoutError:
        raise _timeout(timeout_s) from None


async def asave_webhook(reference: str, webhook_url: str, *, timeout_s: float = DEFAULT_TIMEOUT) -> None:
    await _in_thread(lambda: save_webhook(reference, webhook_url, timeout=None), timeout_s)


async def aread_webhook(reference: str, *, timeout_s: float = DEFAULT_TIMEOUT) -> str:
    return await _in_thread(lambda: read_webhook(reference, timeout=None), timeout_s)


async def adelete_webhook(
    reference: str, *, missing_ok: bool = True, timeout_s: float = DEFAULT_TIMEOUT
) -> None:
    await _in_thread(lambda: delete_webhook(reference, missing_ok=missing_ok, timeout=None), timeout_s)


async def abackend_description(*, timeout_s: float = DEFAULT_TIMEOUT) -> str:
    return await _in_thread(backend_description, timeout_s)


# ---------------------------------------------------------------- this run only


class SessionSecrets:
    """Webhooks the user chose to use "for this run only (not saved)": process memory, never disk."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, reference: str, webhook_url: str) -> None:
        with self._lock:
            self._items[reference] = webhook_url

    def get(self, reference: str) -> str | None:
        with self._lock:
            return self._items.get(reference)

    def discard(self, reference: str) -> None:
        with self._lock:
            self._items.pop(reference, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __contains__(self, reference: object) -> bool:
        with self._lock:
            return reference in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:  # never the secrets themselves
        return f"SessionSecrets({len(self)} webhook(s) held for this run)"


class Vault:
    """The one facade the UI and CLI use: the keyring first, then the "this run only" holder.

    ``read`` answers from the session holder without touching the keyring, so a connection the user chose
    not to save keeps working while the keyring stays broken.
    """

    def __init__(self, session: SessionSecrets | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.session = session if session is not None else SessionSecrets()
        self.timeout = timeout

    async def save(self, reference: str, webhook_url: str) -> None:
        await asave_webhook(reference, webhook_url, timeout_s=self.timeout)
        self.session.discard(reference)

    def keep_for_this_run(self, reference: str, webhook_url: str) -> None:
        self.session.put(reference, webhook_url)

    def is_session_only(self, reference: str) -> bool:
        return reference in self.session

    async def read(self, reference: str) -> str:
        held = self.session.get(reference)
        if held is not None:
            return held
        return await aread_webhook(reference, timeout_s=self.timeout)

    async def delete(self, reference: str) -> None:
        was_session_only = self.is_session_only(reference)
        self.session.discard(reference)
        if not was_session_only:
            await adelete_webhook(reference, timeout_s=self.timeout)
