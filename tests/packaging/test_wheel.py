"""The wheel carries what the app reads at run time (the reference catalog and its license, the icons), and an
installed copy finds them inside itself — not in a checkout that happens to be near; the frozen app's place is
looked in when frozen. Builds the wheel from a copy of the sources (pip, as a user would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from pkg_helpers import ROOT

from b24explorer.core import resource_files

SHIPPED = ("reference/reference-catalog.json.gz", "reference/LICENSE-b24restdocs.txt", "b24explorer.svg",
           "icons/b24explorer-256.png", "b24explorer.desktop")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "b24explorer", source / "b24explorer", ignore=ignore)
    shutil.copytree(ROOT / "resources", source / "resources", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [built] = out.glob("b24explorer-*.whl")
    return built


@pytest.mark.timeout(600)
def test_the_wheel_holds_the_resources_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in SHIPPED:
        assert f"b24explorer/resources/{part}" in names, f"{part} is missing from the wheel"
    inside = zipfile.ZipFile(wheel).read("b24explorer/resources/reference/reference-catalog.json.gz")
    assert inside == (ROOT / "resources" / "reference" / "reference-catalog.json.gz").read_bytes()


@pytest.mark.timeout(600)
def test_an_installed_wheel_finds_its_own_resources(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    probe = (
        "import json, b24explorer\n"
        "from b24explorer.core.reference import catalog_path, reference_catalog\n"
        "from b24explorer.app import _app_icon_path\n"
        "print(json.dumps({'package': b24explorer.__file__, 'catalog': str(catalog_path()),\n"
        "                  'icon': str(_app_icon_path()), 'v2': reference_catalog().count(2)}))\n"
    )
    # -S: no site-packages hooks (the editable install of this checkout would win); the dependencies come from
    # this interpreter's site-packages, after the installed copy.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]))
    proc = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    package = Path(found["package"]).parent
    assert package == target / "b24explorer"
    assert Path(found["catalog"]) == package / "resources" / "reference" / "reference-catalog.json.gz"
    assert Path(found["icon"]) == package / "resources" / "b24explorer.svg"
    assert found["v2"] > 1000


def test_a_checkout_finds_the_repository_resources_and_a_frozen_app_its_bundle(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    assert resource_files.resource_path("b24explorer.svg") == ROOT / "resources" / "b24explorer.svg"
    bundle = tmp_path / "bundle"
    (bundle / "resources").mkdir(parents=True)
    (bundle / "resources" / "only-in-the-bundle.txt").write_text("x", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resource_files.resource_path("only-in-the-bundle.txt") == bundle / "resources" / "only-in-the-bundle.txt"
    assert resource_files.resource_roots().index(bundle / "resources") < resource_files.resource_roots().index(
        ROOT / "resources")
