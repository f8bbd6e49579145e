"""Last line of defence: mask anything that looks like a webhook secret before it reaches the screen.

Core already redacts its records; the UI masks again so that a secret pasted into a message, an error text or
a copied row can never show.
"""

from __future__ import annotations

import re

# Compiled on first use (``re`` keeps it): the window imports this module, but masks nothing before it paints.
_WEBHOOK_PATH = r"(/rest/(?:api/)?\d+/)([A-Za-z0-9_\-]{4,})(?=/|\b)"


def mask_secret(secret: str) -> str:
    if len(secret) <= 4:
        return "…"
    return f"{secret[:2]}…{secret[-2:]}"


def mask_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Replace webhook secrets in ``text``: in any ``/rest/<id>/<secret>`` path and every known secret."""

    def _path(match: re.Match[str]) -> str:
        secret = match.group(2)
        if "…" in secret:
            return match.group(0)
        return match.group(1) + mask_secret(secret)

    text = re.sub(_WEBHOOK_PATH, _path, text)
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, mask_secret(secret))
    return text
