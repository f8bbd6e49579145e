"""Every directory b24explorer writes to, in one place.

By default the per-OS locations of platformdirs (app name ``b24explorer``). Setting the environment variable
``B24X_HOME=<dir>`` confines the whole app to ``<dir>/config``, ``<dir>/data``, ``<dir>/cache`` and
``<dir>/log`` — tests and the secret scan rely on that to know every file the app could have written.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "b24explorer"
HOME_ENV = "B24X_HOME"


def _home_override() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _dir(kind: str, create: bool) -> Path:
    home = _home_override()
    if home is not None:
        path = home / kind
    else:
        import platformdirs  # imported here: with B24X_HOME set (tests, portable use) it is never needed

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        path = Path(
            {
                "config": dirs.user_config_dir,
                "data": dirs.user_data_dir,
                "cache": dirs.user_cache_dir,
                "log": dirs.user_log_dir,
            }[kind]
        )
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir(create: bool = True) -> Path:
    """Settings live here (``settings.json`` and its backups)."""
    return _dir("config", create)


def data_dir(create: bool = True) -> Path:
    """The history database lives here."""
    return _dir("data", create)


def cache_dir(create: bool = True) -> Path:
    """Disposable data (e.g. cached OpenAPI documents of portals)."""
    return _dir("cache", create)


def log_dir(create: bool = True) -> Path:
    """Log files and crash reports."""
    return _dir("log", create)


def all_app_dirs(create: bool = False) -> list[Path]:
    """Every directory the app may write to, for the self-test and the secret scan."""
    return [config_dir(create), data_dir(create), cache_dir(create), log_dir(create)]
