"""Where a command's requests go, through the same :class:`~b24explorer.core.workspace.Workspace` as the window:
a saved connection (``--profile``: a webhook or an application, whose refreshed tokens go back to the keyring),
or a bare webhook (``--webhook`` or the environment) — which is recorded
under the saved connection of the same portal and user, if there is one, so the history lines up with the
window's."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.connections import Connection, ConnectionChangeError
from ..core.errors import SdkError
from ..core.log_record import LogRecord
from ..core.logbus import Level, LogBus
from ..core.outcome import RequestOutcome
from ..core.vault import VaultError
from ..core.webhook import Webhook
from ..core.workspace import Workspace
from .base import BadInput, Environment
from .parsing import WEBHOOK_ENV

if TYPE_CHECKING:
    from ..core.client import B24Client
    from ..core.oauth import OAuthCredentials, OAuthSession


def open_workspace(env: Environment, *, verbose: bool = False) -> Workspace:
    """The workspace of the app's own settings, keyring and history; its log goes to stderr."""
    from ..core.state import FileState

    bus = LogBus()
    floor = Level.DEBUG if verbose else Level.INFO

    def show(record: LogRecord) -> None:
        if record.level >= floor:
            env.say(record.format_line())

    bus.subscribe(show)
    state = FileState()
    for notice in state.notices:
        env.say(f"notice: {notice}")
    return Workspace(state=state, log_bus=bus)


@contextlib.asynccontextmanager
async def workspace_of(env: Environment, *, verbose: bool = False) -> AsyncIterator[Workspace]:
    """:func:`open_workspace`, closed (clients, history) when the command is done."""
    workspace = open_workspace(env, verbose=verbose)
    try:
        yield workspace
    finally:
        await workspace.aclose()


@dataclass
class Target:
    """A resolved destination: the webhook (or an app connection's OAuth session), and the saved connection it
    belongs to (if any)."""

    workspace: Workspace
    webhook: Webhook | OAuthSession
    connection: Connection | None
    timeout: float
    plan: str | None

    def new_client(self) -> B24Client:
        """A client for this command (the caller closes it): the connection's limits unless --plan says."""
        limits = self.plan or (self.connection.limits if self.connection else "standard")
        ca_file = self.connection.ca_file if self.connection is not None and self.connection.ca_file else None
        return self.workspace.new_client(self.webhook, limits=limits, timeout=self.timeout, ca_file=ca_file)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The webhook's secret, or every token (old ones too) and the client secret of the app's session."""
        hook = self.webhook
        return (hook.secret,) if isinstance(hook, Webhook) else hook.secrets

    @property
    def export_subject(self) -> Webhook | OAuthCredentials:
        """What copy-as-code writes for: the webhook, or the app's credentials (its variant of the code)."""
        hook = self.webhook
        return hook if isinstance(hook, Webhook) else hook.credentials

    def outcome(self, kind: str, method: str, api: int, params: Any, request_id: str | None = None
                ) -> RequestOutcome:
        if self.connection is not None:
            return self.workspace.outcome(self.connection.id, kind, method, api, params, request_id)
        outcome = self.workspace.outcome("", kind, method, api, params, request_id)
        outcome.connection_name = self.webhook.host
        return outcome

    async def record(self, outcome: RequestOutcome, args: argparse.Namespace, env: Environment) -> None:
        """Into the history, the way the window records (unless --no-history)."""
        if getattr(args, "no_history", False):
            return
        await self.workspace.record(outcome, self.secrets)
        for notice in self.workspace.history.notices:
            env.say(f"notice: {notice}")
        self.workspace.history.notices.clear()


async def resolve(workspace: Workspace, args: argparse.Namespace, env: Environment) -> Target:
    """From --profile, --webhook or the environment; BadInput when there is none or it is unusable."""
    connection: Connection | None = None
    hook: Webhook | OAuthSession
    profile = getattr(args, "profile", None)
    if profile:
        try:
            connection = workspace.connections.require(profile)
            hook = await workspace.connections.access(connection.id)
        except ConnectionChangeError as exc:
            raise BadInput(str(exc)) from None
        except VaultError as exc:
            raise BadInput(f"the secret of {profile!r} could not be read from the keyring: {exc}") from None
        except SdkError as exc:
            raise BadInput(f"{profile!r}: {exc.message}") from None
    else:
        url = getattr(args, "webhook", None) or env.environ.get(WEBHOOK_ENV, "").strip()
        if not url:
            raise BadInput(f"no webhook: pass --profile NAME, --webhook URL or set {WEBHOOK_ENV}")
        hook = parse_webhook(url)
        connection = next((c for c in workspace.connections
                           if not c.is_app and c.portal == hook.portal and c.user_id == hook.user_id), None)
    return Target(workspace, hook, connection, float(getattr(args, "timeout", 30.0)), getattr(args, "plan", None))


def parse_webhook(url: str) -> Webhook:
    try:
        return Webhook.parse(url)
    except SdkError as exc:
        raise BadInput(f"webhook: {exc.message}") from None
