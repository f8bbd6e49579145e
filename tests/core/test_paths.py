from pathlib import Path

import pytest

from b24explorer.core import paths


def test_b24x_home_confines_every_directory(app_home: Path) -> None:
    dirs = paths.all_app_dirs(create=True)
    assert dirs == [app_home / "config", app_home / "data", app_home / "cache", app_home / "log"]
    assert all(d.is_dir() for d in dirs)
    assert paths.config_dir() == app_home / "config"
    assert paths.data_dir() == app_home / "data"
    assert paths.cache_dir() == app_home / "cache"
    assert paths.log_dir() == app_home / "log"


def test_without_override_uses_platform_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("B24X_HOME", raising=False)
    # point XDG at a temporary place so the test never creates anything in a real home
    for var, sub in [("XDG_CONFIG_HOME", "c"), ("XDG_DATA_HOME", "d"), ("XDG_CACHE_HOME", "k"),
                     ("XDG_STATE_HOME", "s")]:
        monkeypatch.setenv(var, str(tmp_path / sub))
    dirs = paths.all_app_dirs(create=False)
    assert all("b24explorer" in d.parts for d in dirs), dirs
    assert len(set(dirs)) == 4
    assert not any(d.exists() for d in dirs)
    assert paths.config_dir().is_dir()  # created on demand


def test_blank_override_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("B24X_HOME", "  ")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    assert paths.config_dir(create=False) == tmp_path / "c" / "b24explorer"
