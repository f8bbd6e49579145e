"""Incoming-webhook URLs: parse and validate them (the SDK's `fromWebhookUrl` rules), and show them masked."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import SdkError
from .redact import mask_secret

WEBHOOK_INVALID = "WEBHOOK_INVALID"
_FORMAT_HINT = "Webhook URL must follow format: /rest/<userId>/<secret> or /rest/api/<userId>/<secret>"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _invalid(message: str) -> SdkError:
    # Messages are fixed texts: nothing of the URL is ever echoed, since it carries the secret.
    return SdkError(WEBHOOK_INVALID, message, 400)


@dataclass(frozen=True)
class Webhook:
    """A portal's incoming webhook. The secret is only reachable as `.secret`; str/repr are masked."""

    portal: str  # scheme://host[:port], no trailing slash
    user_id: int
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, url: str) -> Webhook:
        if not isinstance(url, str) or not url.strip():
            raise _invalid("Webhook URL cannot be empty")
        text = url.strip()
        text = text.replace("/rest/api", "/rest", 1)
        try:
            parts = urlsplit(text)
            host = parts.hostname
            port = parts.port
        except ValueError:
            raise _invalid("Invalid webhook URL format") from None
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise _invalid("Invalid webhook URL format")
        if parts.username is not None or parts.password is not None:
            raise _invalid("Webhook URL must not contain a user name or password before the host")
        if parts.scheme.lower() != "https" and not is_loopback_host(host):
            raise _invalid(
                "Webhook requires HTTPS protocol (plain http is accepted only for loopback hosts such as the "
                "local sandbox)"
            )
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 3 and segments[:1] == ["rest"] and len(segments) == 2:
            raise _invalid(f"Webhook URL has no secret. {_FORMAT_HINT}")
        if len(segments) != 3 or segments[0] != "rest":
            if len(segments) > 3 and segments[0] == "rest":
                raise _invalid(
                    f"Webhook URL has extra path segments after the secret (paste the webhook itself, without a "
                    f"method name). {_FORMAT_HINT}"
                )
            raise _invalid(_FORMAT_HINT)
        user, secret = segments[1], segments[2]
        if not re.fullmatch(r"\d+", user):
            raise _invalid("User ID must be numeric in webhook URL")
        if not re.fullmatch(r"[A-Za-z0-9_\-.~%]+", secret):
            raise _invalid("Webhook secret contains characters a webhook code never has")
        scheme = parts.scheme.lower()
        netloc = host if ":" not in host else f"[{host}]"
        if (
            port is not None
            and not (scheme == "https" and port == 443)
            and not (scheme == "http" and port == 80)
        ):
            netloc = f"{netloc}:{port}"
        return cls(portal=f"{scheme}://{netloc}", user_id=int(user), secret=secret)

    @property
    def host(self) -> str:
        return urlsplit(self.portal).hostname or ""

    @property
    def v2_base(self) -> str:
        return f"{self.portal}/rest/{self.user_id}/{self.secret}"

    @property
    def v3_base(self) -> str:
        return f"{self.portal}/rest/api/{self.user_id}/{self.secret}"

    @property
    def url(self) -> str:
        """The full secret URL (for the keyring only)."""
        return f"{self.v2_base}/"

    @property
    def masked(self) -> str:
        return f"{self.portal}/rest/{self.user_id}/{mask_secret(self.secret)}/"

    @property
    def masked_v3_base(self) -> str:
        return f"{self.portal}/rest/api/{self.user_id}/{mask_secret(self.secret)}"

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Webhook({self.masked!r})"
