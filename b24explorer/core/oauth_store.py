"""An application connection's credentials in the OS keyring: one entry (the connection's keyring reference)
holding the portal, client id, client secret, OAuth server and token set as one JSON text — nowhere else."""

from __future__ import annotations

from .oauth import OAuthCredentials, SaveTokens
from .vault import SYNC_TIMEOUT, Vault, read_webhook, save_webhook


async def save_credentials(vault: Vault, reference: str, credentials: OAuthCredentials) -> None:
    """Store (or replace) the credentials; a connection kept "for this run only" stays in memory."""
    text = credentials.to_keyring_text()
    if vault.is_session_only(reference):
        vault.keep_for_this_run(reference, text)
    else:
        await vault.save(reference, text)


async def read_credentials(vault: Vault, reference: str) -> OAuthCredentials:
    return OAuthCredentials.from_keyring_text(await vault.read(reference))


def keyring_saver(vault: Vault, reference: str) -> SaveTokens:
    """What an OAuthSession calls after each refresh: the new pair replaces the old one in the keyring."""

    async def save(credentials: OAuthCredentials) -> None:
        await save_credentials(vault, reference, credentials)

    return save


def save_credentials_sync(reference: str, credentials: OAuthCredentials, *, timeout: float = SYNC_TIMEOUT) -> None:
    """The blocking twin for the command line."""
    save_webhook(reference, credentials.to_keyring_text(), timeout=timeout)


def read_credentials_sync(reference: str, *, timeout: float = SYNC_TIMEOUT) -> OAuthCredentials:
    return OAuthCredentials.from_keyring_text(read_webhook(reference, timeout=timeout))
