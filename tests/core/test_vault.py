"""The webhook vault: a real Secret Service where it matters, typed errors for every failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from contextlib import closing
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends import fail, null
from keyring.compat import properties

from b24explorer.core import vault

SECRET_URL = "https://portal.example.com/rest/7/q1w2e3r4t5y6u7i8/"
REPO_ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ helpers


class _TestOnlyBackend(keyring.backend.KeyringBackend):
    """Never picked by keyring's own discovery (which considers every subclass): only via set_keyring."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test double, not a real backend")


class _BlockingBackend(_TestOnlyBackend):
    """Stands for a keyring stuck behind an unlock prompt nobody answers (cannot be staged headless)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


def _private_keyring_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DBUS_SESSION_BUS_ADDRESS", "B24X_IN_TEST_SESSION"}}
    (tmp_path / "xdg-data").mkdir()
    run = tmp_path / "xdg-run"
    run.mkdir(mode=0o700)
    env.update(XDG_DATA_HOME=str(tmp_path / "xdg-data"), XDG_RUNTIME_DIR=str(run), PYTHONPATH=str(REPO_ROOT))
    return env


def _run_in_private_keyring(tmp_path: Path, code: str, *, unlocked: bool) -> dict:
    """Runs ``code`` in a fresh D-Bus session with its own gnome-keyring (unlocked login keyring or none).

    States that cannot be undone headless (a locked collection, a dismissed prompt) are staged there, so
    the shared test session stays usable. ``code`` prints one JSON line as its answer.
    """
    start = (
        "printf %s private-pass | gnome-keyring-daemon --unlock --components=secrets"
        if unlocked
        else "gnome-keyring-daemon --start --components=secrets"
    )
    proc = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", f'{start} >/dev/null 2>&1; exec "$@"', "bash",
         sys.executable, "-c", textwrap.dedent(code)],
        env=_private_keyring_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, f"child failed: {proc.stdout}\n{proc.stderr}"
    assert lines, f"child failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1])


def _secretstorage_items(reference: str) -> list:
    import secretstorage

    bus = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(bus)
    return list(collection.search_items({"service": vault.SERVICE, "username": reference})), bus


# ------------------------------------------------------------------ real Secret Service


@pytest.mark.real_keyring
def test_round_trip_through_real_secret_service(reference: str) -> None:
    assert "SecretService" in vault.backend_description()
    assert vault.has_backend()

    vault.save_webhook(reference, SECRET_URL)
    assert vault.read_webhook(reference) == SECRET_URL

    items, bus = _secretstorage_items(reference)
    with closing(bus):
        assert len(items) == 1
        attributes = items[0].get_attributes()
        assert attributes["service"] == "b24explorer"
        assert attributes["username"] == reference
        assert items[0].get_secret().decode() == SECRET_URL
        assert "q1w2e3r4t5y6u7i8" not in items[0].get_label()

    vault.save_webhook(reference, SECRET_URL.replace("q1w2", "zzzz"))  # replace, not a second entry
    assert vault.read_webhook(reference).startswith("https://portal.example.com/rest/7/zzzz")
    items, bus = _secretstorage_items(reference)
    with closing(bus):
        assert len(items) == 1

    vault.delete_webhook(reference)
    with pytest.raises(vault.EntryMissingError):
        vault.read_webhook(reference)
    vault.delete_webhook(reference)  # already gone: fine by default
    with pytest.raises(vault.EntryMissingError):
        vault.delete_webhook(reference, missing_ok=False)


@pytest.mark.real_keyring
async def test_async_round_trip_through_real_secret_service(reference: str) -> None:
    await vault.asave_webhook(reference, SECRET_URL, timeout_s=10)
    assert await vault.aread_webhook(reference, timeout_s=10) == SECRET_URL
    assert "SecretService" in await vault.abackend_description()
    facade = vault.Vault(timeout=10)
    assert await facade.read(reference) == SECRET_URL
    await facade.delete(reference)
    with pytest.raises(vault.EntryMissingError) as caught:
        await facade.read(reference)
    assert reference in caught.value.message
    assert "paste its webhook URL again" in caught.value.action


@pytest.mark.real_keyring
async def test_entry_deleted_behind_the_apps_back(reference: str) -> None:
    vault.save_webhook(reference, SECRET_URL)
    items, bus = _secretstorage_items(reference)
    with closing(bus):
        items[0].delete()  # as a password manager would

    with pytest.raises(vault.EntryMissingError) as caught:
        vault.read_webhook(reference)
    assert caught.value.kind == "entry_missing"
    assert caught.value.offer_session_only is False
    with pytest.raises(vault.EntryMissingError):
        await vault.aread_webhook(reference)
    assert SECRET_URL not in str(caught.value)


@pytest.mark.real_keyring
def test_locked_collection_is_a_typed_error(tmp_path: Path) -> None:
    answer = _run_in_private_keyring(
        tmp_path,
        """
        import asyncio, json, secretstorage
        from b24explorer.core import vault
        vault.save_webhook("conn-locked", "https://p.example.com/rest/1/lockedsecret123/")
        bus = secretstorage.dbus_init()
        secretstorage.get_default_collection(bus).lock()   # a prompt to unlock cannot be answered headless
        out = {"backend": vault.backend_description()}
        for name, call in [
            ("read", lambda: vault.read_webhook("conn-locked")),
            ("save", lambda: vault.save_webhook("conn-other", "https://p.example.com/rest/1/x/")),
            ("aread", lambda: asyncio.run(vault.aread_webhook("conn-locked", timeout_s=20))),
        ]:
            try:
                call()
                out[name] = "no error"
            except vault.VaultError as exc:
                out[name] = [type(exc).__name__, exc.kind, str(exc), exc.offer_session_only]
        print(json.dumps(out))
        """,
        unlocked=True,
    )
    assert "SecretService" in answer["backend"]
    for name in ("read", "save", "aread"):
        cls, kind, text, offer = answer[name]
        assert (cls, kind) == ("KeyringLockedError", "locked"), answer
        assert "locked" in text
        assert "Unlock your keyring" in text
        assert offer is True
        assert "lockedsecret123" not in text


@pytest.mark.real_keyring
def test_prompt_dismissed_is_a_typed_error(tmp_path: Path) -> None:
    # A keyring daemon with no login keyring: saving must create one, which needs a prompt — dismissed headless.
    answer = _run_in_private_keyring(
        tmp_path,
        """
        import json
        from b24explorer.core import vault
        out = {}
        try:
            vault.save_webhook("conn-p", "https://p.example.com/rest/1/promptsecret1/", timeout=30)
            out["save"] = "no error"
        except vault.VaultError as exc:
            out["save"] = [type(exc).__name__, exc.kind, str(exc)]
        print(json.dumps(out))
        """,
        unlocked=False,
    )
    cls, kind, text = answer["save"]
    assert (cls, kind) == ("PromptDismissedError", "prompt_dismissed"), answer
    assert "prompt was dismissed" in text
    assert "this run only" in text
    assert "promptsecret1" not in text


# ------------------------------------------------------------------ no backend


@pytest.mark.skipif(sys.platform != "linux", reason="D-Bus (Secret Service) is the Linux keyring")
def test_no_dbus_session_means_no_backend(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DBUS_SESSION_BUS_ADDRESS", "DISPLAY"}}
    env.update(PYTHONPATH=str(REPO_ROOT), XDG_RUNTIME_DIR=str(tmp_path), B24X_HOME=str(tmp_path / "home"))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    code = textwrap.dedent(
        """
        import json
        from b24explorer.core import vault
        out = {"has": vault.has_backend(), "desc": vault.backend_description()}
        try:
            vault.save_webhook("conn-x", "https://p.example.com/rest/1/nobackendsecret/")
        except vault.VaultError as exc:
            out["err"] = [exc.kind, str(exc)]
        print(json.dumps(out))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          check=True)
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["has"] is False
    assert answer["desc"].startswith("no keyring backend")
    kind, text = answer["err"]
    assert kind == "no_backend"
    assert "No secure password store" in text
    assert "never written to disk in plain text" in text
    assert not list((tmp_path / "home").rglob("*"))  # nothing fell back to a file
    assert "nobackendsecret" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
@pytest.mark.usefixtures("restore_keyring")
async def test_fail_and_null_backends_are_no_backend(backend: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(backend)
    assert not vault.has_backend()
    # the null backend would "save" into nowhere and read back nothing: refused up front instead
    with pytest.raises(vault.NoBackendError) as caught:
        vault.save_webhook("conn-n", SECRET_URL)
    assert caught.value.offer_session_only
    with pytest.raises(vault.NoBackendError):
        await vault.aread_webhook("conn-n")
    with pytest.raises(vault.NoBackendError):
        await vault.adelete_webhook("conn-n")


@pytest.mark.usefixtures("restore_keyring")
def test_plaintext_backend_is_refused() -> None:
    class PlaintextKeyring(_TestOnlyBackend):
        stored: dict = {}  # noqa: RUF012

        def get_password(self, service, username):
            return self.stored.get((service, username))

        def set_password(self, service, username, password):
            self.stored[(service, username)] = password

        def delete_password(self, service, username):
            self.stored.pop((service, username), None)

    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(vault.NoBackendError) as caught:
        vault.save_webhook("conn-p", SECRET_URL)
    assert "insecure" in caught.value.detail
    assert PlaintextKeyring.stored == {}


# ------------------------------------------------------------------ timeout, classification, session-only


@pytest.mark.usefixtures("restore_keyring")
async def test_a_hanging_keyring_times_out_instead_of_freezing() -> None:
    backend = _BlockingBackend()
    keyring.set_keyring(backend)
    try:
        with pytest.raises(vault.VaultTimeoutError) as caught:
            await vault.aread_webhook("conn-h", timeout_s=0.2)
        assert "0.2 s" in caught.value.message
        with pytest.raises(vault.VaultTimeoutError):
            vault.save_webhook("conn-h", SECRET_URL, timeout=0.2)
    finally:
        backend.release.set()


def test_classification_of_keyring_errors() -> None:
    errors = keyring.errors
    assert isinstance(vault.classify(errors.NoKeyringError("x")), vault.NoBackendError)
    assert isinstance(vault.classify(errors.KeyringLocked("x")), vault.KeyringLockedError)
    assert isinstance(
        vault.classify(errors.InitError("Failed to create the collection: Prompt dismissed..")),
        vault.PromptDismissedError,
    )
    assert isinstance(vault.classify(errors.InitError("bus gone")), vault.VaultBackendError)
    other = vault.classify(errors.PasswordSetError("boom"))
    assert isinstance(other, vault.VaultBackendError)
    assert other.detail == "boom"
    assert "PasswordSetError" in other.message
    for exc in (vault.classify(errors.KeyringLocked("x")), other):
        assert exc.message
        assert exc.action
        assert str(exc).startswith(exc.message)


@pytest.mark.usefixtures("restore_keyring")
async def test_this_run_only_works_without_any_backend() -> None:
    keyring.set_keyring(fail.Keyring())
    facade = vault.Vault(timeout=2)
    ref = vault.new_reference()
    with pytest.raises(vault.NoBackendError):
        await facade.save(ref, SECRET_URL)
    facade.keep_for_this_run(ref, SECRET_URL)
    assert facade.is_session_only(ref)
    assert await facade.read(ref) == SECRET_URL
    assert "q1w2e3" not in repr(facade.session)
    await facade.delete(ref)  # session-only: forgets it without asking the keyring
    assert not facade.is_session_only(ref)
    with pytest.raises(vault.NoBackendError):
        await facade.read(ref)


def test_references_are_random_and_bad_input_is_refused() -> None:
    refs = {vault.new_reference() for _ in range(100)}
    assert len(refs) == 100
    assert all(r.startswith("conn-") for r in refs)
    with pytest.raises(ValueError, match="reference"):
        vault.read_webhook("")
    with pytest.raises(ValueError, match="empty"):
        vault.save_webhook("conn-1", "")



# ------------------------------------------------------------------ nothing secret on disk


@pytest.mark.real_keyring
async def test_no_secret_reaches_any_app_directory(app_home: Path, reference: str) -> None:
    from b24explorer.core import export, history, paths, settings
    from b24explorer.core.webhook import Webhook

    secret = "n0t1nf1l3s9x8c7v"
    url = f"https://portal.example.com/rest/5/{secret}/"
    hook = Webhook.parse(url)

    facade = vault.Vault(timeout=10)
    await facade.save(reference, hook.url)
    store = settings.SettingsStore()
    prefs = await store.aload()
    prefs.add_connection(settings.ConnectionProfile.from_webhook("Prod", hook, reference))
    prefs.remember_request(reference, "event.bind", json.dumps({"handler": url + "x"}))
    await store.asave(prefs)

    log = history.HistoryStore()
    await log.arecord(connection="Prod", method="event.bind", params={"handler": url, "auth": secret},
                      response=f'{{"error":"X","error_description":"{url}"}}'.encode(), secrets=[secret])
    await log.asave_request("Prod", "bind", "event.bind", {"handler": url}, secrets=[secret])
    log.close()
    for fmt in export.Format:
        code = export.export_code(fmt, hook, export.CallRequest("event.bind", {"handler": url}))
        (paths.cache_dir() / f"export-{fmt.value}{export.FORMAT_SUFFIX[fmt]}").write_text(code)

    assert await facade.read(reference) == hook.url  # the secret is where it belongs
    files = [p for d in paths.all_app_dirs() if d.exists() for p in d.rglob("*") if p.is_file()]
    assert len(files) >= 7
    leaks = [p for p in files if secret.encode() in p.read_bytes()]
    assert leaks == []
