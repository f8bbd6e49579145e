"""The Windows and macOS installer inputs agree with the spec and the files they point at.

(They are built on hosted runners by .github/workflows/release.yml; here only their consistency is checked.)
"""

from __future__ import annotations

import plistlib
import re
from pathlib import PureWindowsPath

from pkg_helpers import ROOT

PACKAGING = ROOT / "packaging"


def _spec_exe_name() -> str:
    """The executable's name: the spec's NAME (another spec running it may name its own program)."""
    spec = (PACKAGING / "b24explorer.spec").read_text()
    assert re.search(r"EXE\(.*?name=NAME,", spec, re.S)
    match = re.search(r'^NAME = globals\(\)\.get\("NAME", "([^"]+)"\)$', spec, re.M)
    assert match
    return match.group(1)


def test_info_plist_matches_the_bundle() -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert info["CFBundleExecutable"] == _spec_exe_name()
    assert info["CFBundlePackageType"] == "APPL"
    assert (ROOT / "resources" / info["CFBundleIconFile"]).is_file()
    assert re.fullmatch(r"[A-Za-z0-9.-]+", info["CFBundleIdentifier"])
    assert info["NSHighResolutionCapable"] is True
    assert info["NSRequiresAquaSystemAppearance"] is False  # follows the system's dark mode


def _iss() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in (PACKAGING / "windows" / "b24explorer.iss").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        sections.setdefault(current, []).append(line)
    return sections


def test_inno_setup_script_points_at_real_files() -> None:
    sections = _iss()
    defines = dict(re.findall(r'#define (\w+) "([^"]*)"', "\n".join(sections[""])))
    assert defines["AppExe"] == _spec_exe_name() + ".exe"
    build_dir = PACKAGING / "windows" / PureWindowsPath(defines["BuildDir"]).as_posix()
    assert build_dir.resolve() == (ROOT / "dist" / "b24explorer").resolve()
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    icon = PACKAGING / "windows" / PureWindowsPath(setup["SetupIconFile"]).as_posix()
    assert icon.resolve() == (ROOT / "resources" / "b24explorer.ico").resolve()
    assert re.fullmatch(r"\{\{[0-9A-F-]{36}\}", setup["AppId"])  # stable: upgrades replace, not duplicate
    assert setup["PrivilegesRequired"] == "lowest"
    assert "commandline" in setup["PrivilegesRequiredOverridesAllowed"]  # /CURRENTUSER in CI
    icons = "\n".join(sections["Icons"])
    assert '"{group}\\{#AppName}"; Filename: "{app}\\{#AppExe}"' in icons  # Start-menu entry
    assert "{uninstallexe}" in icons


def test_release_workflow_self_tests_every_os() -> None:
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    body = text.split("\njobs:\n", 1)[1]
    jobs = dict(re.findall(r"^  ([\w-]+):\n(.*?)(?=^  [\w-]+:\n|\Z)", body, re.M | re.S))
    assert {"linux", "windows", "macos"} <= set(jobs)
    for name in ("linux", "windows", "macos"):
        assert "python packaging/build.py" in jobs[name]
        assert "--self-test" in jobs[name], f"the {name} job never runs the frozen self-test"
        assert "actions/upload-artifact" in jobs[name]
