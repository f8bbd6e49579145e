"""Fixtures of the packaging tests.

Tests marked ``packaging`` need the frozen app. They use the build named by ``B24X_PACKAGING_DIST`` (a
``dist`` folder holding ``b24explorer/`` and the .deb/.tar.gz — ``packaging/ci_check.sh`` builds one and
points this at it), or build one themselves once per session when ``B24X_BUILD_FROZEN=1``; otherwise they
are skipped, so the default ``make test`` run does not spend a minute in PyInstaller.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pkg_helpers import ROOT


@pytest.fixture
def source_env_extra() -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _build_frozen(dist: Path) -> None:
    work = dist.parent / "work"
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(ROOT / "packaging" / "b24explorer.spec")],
                   check=True, cwd=ROOT)
    subprocess.run([sys.executable, str(ROOT / "packaging" / "linux" / "package.py"), "--dist", str(dist)],
                   check=True, cwd=ROOT)


@pytest.fixture(scope="session")
def frozen_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("the packaging tests check the Linux build")
    named = os.environ.get("B24X_PACKAGING_DIST")
    if named:
        dist = Path(named).resolve()
        if not (dist / "b24explorer" / "b24explorer").is_file():
            pytest.fail(f"B24X_PACKAGING_DIST={named} holds no one-folder build (b24explorer/b24explorer)")
        return dist
    if os.environ.get("B24X_BUILD_FROZEN") == "1":
        dist = tmp_path_factory.mktemp("frozen") / "dist"
        _build_frozen(dist)
        return dist
    pytest.skip("needs the frozen app: run packaging/ci_check.sh, or set B24X_BUILD_FROZEN=1 "
                "(or B24X_PACKAGING_DIST=<dist dir>)")


@pytest.fixture(scope="session")
def frozen_app(frozen_dist: Path) -> Path:
    return frozen_dist / "b24explorer"


@pytest.fixture(scope="session")
def deb_file(frozen_dist: Path) -> Path:
    debs = sorted(frozen_dist.glob("b24explorer_*.deb"))
    if not debs:
        pytest.fail(f"no .deb in {frozen_dist} (packaging/linux/package.py makes it)")
    return debs[-1]


@pytest.fixture
def scratch() -> Path:
    """A short-lived directory outside pytest's tmp tree (dpkg roots hold ~190 MB; removed right away)."""
    path = Path(tempfile.mkdtemp(prefix="b24x-pkg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
