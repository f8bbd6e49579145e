"""The frozen Linux app, its .deb and its .tar.gz (needs a build: see conftest.py; packaging/ci_check.sh)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from pkg_helpers import ROOT, isolated_env, run_selftest

# The first test to ask for the build may build it (B24X_BUILD_FROZEN=1): minutes, not the suite default.
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

SIZE_BUDGET = 200e6
OTHER_BINDINGS = ("PyQt5", "PyQt6", "PySide2")


def _version() -> str:
    from b24explorer import __version__

    return __version__


# ---------------------------------------------------------------- the one-folder build


def test_one_folder_layout_and_budget(frozen_app: Path) -> None:
    exe = frozen_app / "b24explorer"
    assert exe.is_file()
    assert os.access(exe, os.X_OK)
    internal = frozen_app / "_internal"
    assert (internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so").is_file()
    assert (internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqoffscreen.so").is_file()
    size = sum(p.stat().st_size for p in frozen_app.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"one-folder build: {size / 1e6:.1f} MB (budget {SIZE_BUDGET / 1e6:.0f} MB)")
    assert size <= SIZE_BUDGET


def test_only_pyside6_essentials_is_bundled(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    names = {p.name for p in internal.rglob("*")}
    for binding in OTHER_BINDINGS:
        assert binding not in names, f"{binding} was collected"
    qt_libs = {p.name for p in (internal / "PySide6" / "Qt" / "lib").iterdir()}
    assert not {n for n in qt_libs if n.startswith(("libQt6Qml", "libQt6Quick", "libQt6WebEngine"))}
    assert not list(internal.rglob("libgtk-3.so*")), "the GTK3 theme plugin's libgtk-3 must not ship"
    assert not list(internal.rglob("*.qm")), "Qt translations ship although the app loads none"


def test_keyring_backends_and_metadata_are_collected(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    dist_infos = sorted(p.name for p in internal.glob("keyring-*.dist-info"))
    assert dist_infos, "keyring's dist-info is needed for backend discovery (entry points)"
    entry_points = (internal / dist_infos[0] / "entry_points.txt").read_text(encoding="utf-8")
    assert "SecretService" in entry_points
    assert list(internal.glob("SecretStorage-*.dist-info")) or list(internal.glob("secretstorage-*.dist-info"))


def test_resources_ship_next_to_the_package(frozen_app: Path) -> None:
    resources = frozen_app / "_internal" / "resources"
    assert (resources / "b24explorer.svg").read_bytes() == (ROOT / "resources" / "b24explorer.svg").read_bytes()
    assert (resources / "icons" / "b24explorer-256.png").is_file()
    assert (resources / "b24explorer.desktop").is_file()
    catalog = Path("reference") / "reference-catalog.json.gz"
    assert (resources / catalog).read_bytes() == (ROOT / "resources" / catalog).read_bytes()
    assert (resources / "reference" / "LICENSE-b24restdocs.txt").is_file()


def test_no_upx(frozen_app: Path) -> None:
    packed = []
    for path in [frozen_app / "b24explorer", *(frozen_app / "_internal").rglob("*.so*")]:
        if path.is_file() and b"UPX!" in path.read_bytes()[:4096]:
            packed.append(path.name)
    assert not packed


# ---------------------------------------------------------------- the frozen self-test, twice


def test_frozen_selftest_without_dbus(frozen_app: Path, tmp_path: Path) -> None:
    """No D-Bus session: a clear "no keyring" line, the this-run-only holder works, exit 0."""
    run = run_selftest([str(frozen_app / "b24explorer")], tmp_path)
    assert run.returncode == 0, run.output
    assert "frozen" in run.output.splitlines()[0]
    assert "no keyring" in run.line("keyring")
    assert "this run only (not saved)" in run.line("keyring")
    for step in ("window", "sandbox", "call", "batch", "secrets", "close"):
        assert run.line(step).split()[0] == "ok", run.output


def test_frozen_selftest_under_secret_service(frozen_app: Path, tmp_path: Path) -> None:
    """A private D-Bus session with an unlocked gnome-keyring: the Secret Service backend round-trips."""
    run = run_selftest([str(frozen_app / "b24explorer")], tmp_path, "--require-keyring", secret_service=True)
    assert run.returncode == 0, run.output
    line = run.line("keyring")
    assert "Secret Service" in line
    assert "keyring.backends.SecretService.Keyring" in line
    assert "saved, read and deleted a test entry" in line


@pytest.mark.xvfb
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs xvfb-run")
def test_frozen_selftest_on_a_real_x_server(frozen_app: Path, tmp_path: Path) -> None:
    """The bundled xcb platform plugin and its libraries load and paint on an X server (Xvfb)."""
    run = run_selftest(["xvfb-run", "-a", str(frozen_app / "b24explorer")], tmp_path,
                       env_extra={"QT_QPA_PLATFORM": "xcb"})
    assert run.returncode == 0, run.output
    assert "Qt platform xcb" in run.output.splitlines()[0]
    assert run.line("window").split()[0] == "ok"


@pytest.mark.xvfb
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs xvfb-run")
def test_frozen_app_opens_on_the_sandbox_and_shows_an_answer(frozen_app: Path, tmp_path: Path) -> None:
    """What `make run` does, frozen: the window on the embedded sandbox, a request sent, its answer painted."""
    from PySide6.QtGui import QImage

    shot = ROOT / "tests" / "artifacts" / "frozen-window.png"
    shot.unlink(missing_ok=True)
    env = isolated_env(tmp_path)
    env["QT_QPA_PLATFORM"] = "xcb"
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", str(frozen_app / "b24explorer"),
                           "--sandbox", "--screenshot", str(shot)], env=env, capture_output=True, text=True,
                          timeout=150)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    assert image.width() >= 800
    assert image.height() >= 500


# ---------------------------------------------------------------- .deb


def _deb_contents(deb: Path) -> dict[str, str]:
    """path -> the `dpkg-deb --contents` line (mode, owner, size, …, and `-> target` for symlinks)."""
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    contents = {}
    for line in listing.splitlines():
        path = line.split(None, 5)[5].split(" -> ")[0]
        contents[path.removeprefix(".").rstrip("/") or "/"] = line
    return contents


def test_deb_contents(deb_file: Path) -> None:
    contents = _deb_contents(deb_file)
    launcher = contents["/usr/bin/b24explorer"]
    assert launcher.startswith("l")
    assert launcher.endswith("-> ../lib/b24explorer/b24explorer")
    assert contents["/usr/bin/b24x"].endswith("-> ../lib/b24explorer/b24explorer")
    assert contents["/usr/lib/b24explorer/b24explorer"].startswith("-rwxr-xr-x root/root")
    assert "/usr/lib/b24explorer/_internal/PySide6/Qt/plugins/platforms/libqxcb.so" in contents
    assert "/usr/share/applications/b24explorer.desktop" in contents
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert f"/usr/share/icons/hicolor/{size}x{size}/apps/b24explorer.png" in contents
    assert "/usr/share/icons/hicolor/scalable/apps/b24explorer.svg" in contents
    assert "/usr/share/doc/b24explorer/copyright" in contents
    owners = {line.split()[1] for line in contents.values()}
    assert owners == {"root/root"}


def test_deb_control(deb_file: Path) -> None:
    def field(name: str) -> str:
        return subprocess.run(["dpkg-deb", "--field", str(deb_file), name], capture_output=True, text=True,
                              check=True).stdout.strip()

    assert field("Package") == "b24explorer"
    assert field("Version") == _version()
    assert field("Architecture") == subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                                   text=True, check=True).stdout.strip()
    depends = {d.strip().split(" ")[0]: d.strip() for d in field("Depends").split(",")}
    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[1]
    assert depends["libc6"] == f"libc6 (>= {glibc})"  # built here: needs this glibc or newer
    assert "libxcb1" in depends  # the xcb platform plugin links it from the system
    assert int(field("Installed-Size")) > 50_000  # KiB


def test_deb_installs_into_a_clean_root_and_its_launcher_self_tests(deb_file: Path, scratch: Path) -> None:
    root = scratch / "root"
    admin = root / "var" / "lib" / "dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True)
    (admin / "status").touch()
    (admin / "available").touch()
    if os.geteuid() == 0:
        # --force-depends: the empty root has no libc6 etc.; the binaries below still use this machine's.
        proc = subprocess.run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
                               "-i", str(deb_file)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        status = subprocess.run(["dpkg-query", f"--admindir={admin}", "-W", "-f=${Status} ${Version}",
                                 "b24explorer"], capture_output=True, text=True, check=True).stdout
        assert status == f"install ok installed {_version()}"
    else:  # dpkg cannot give files to root without being root: unpack the same tree instead
        subprocess.run(["dpkg-deb", "-x", str(deb_file), str(root)], check=True)
    launcher = root / "usr" / "bin" / "b24explorer"
    assert launcher.is_symlink()
    run = run_selftest([str(launcher)], scratch / "home")
    assert run.returncode == 0, run.output
    assert "frozen" in run.output.splitlines()[0]
    assert "no keyring" in run.line("keyring")


def test_installed_b24x_is_the_command_line(deb_file: Path, scratch: Path) -> None:
    """/usr/bin/b24x from the .deb calls a sandbox portal and prints the JSON envelope."""
    from b24explorer.sandbox import Sandbox

    subprocess.run(["dpkg-deb", "-x", str(deb_file), str(scratch / "root")], check=True)
    with Sandbox(seed=1, deals=10, plan="unlimited") as sandbox:
        env = isolated_env(scratch / "home")
        env["B24X_WEBHOOK"] = sandbox.webhook_url
        proc = subprocess.run([str(scratch / "root" / "usr" / "bin" / "b24x"), "call", "crm.deal.list"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    envelope = json.loads(proc.stdout)
    assert envelope["total"] == 10
    assert [deal["ID"] for deal in envelope["result"]] == [str(i) for i in range(1, 11)]


@pytest.mark.skipif(not shutil.which("apt-get") or os.geteuid() != 0, reason="needs apt-get as root")
def test_apt_can_resolve_the_deb_dependencies(deb_file: Path) -> None:
    """`apt install ./b24explorer_*.deb` works on this system: simulated, so nothing is installed."""
    proc = subprocess.run(["apt-get", "install", "--simulate", "--no-install-recommends", str(deb_file)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Inst b24explorer" in proc.stdout


# ---------------------------------------------------------------- .tar.gz


def test_tarball(frozen_dist: Path) -> None:
    tarballs = sorted(frozen_dist.glob(f"b24explorer-{_version()}-linux-*.tar.gz"))
    assert tarballs, f"no tarball in {frozen_dist}"
    with tarfile.open(tarballs[-1]) as tar:
        members = {m.name: m for m in tar.getmembers()}
    top = tarballs[-1].name.removesuffix(".tar.gz")
    exe = members[f"{top}/b24explorer"]
    assert exe.isfile()
    assert exe.mode & 0o111
    assert f"{top}/_internal/PySide6/Qt/plugins/platforms/libqxcb.so" in members
    assert members[f"{top}/b24x"].issym()
    assert members[f"{top}/b24x"].linkname == "b24explorer"
    assert f"{top}/b24explorer.desktop" in members
    assert f"{top}/b24explorer.png" in members
    assert {m.uname for m in members.values()} == {"root"}
