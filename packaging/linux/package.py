"""Package the Linux one-folder build (dist/b24explorer) as a .tar.gz and a .deb.

    python packaging/linux/package.py [--version X.Y.Z] [--dist dist]

The .deb (built with ``dpkg-deb``, no root needed) installs:
    /usr/lib/b24explorer/                       the one-folder app
    /usr/bin/b24explorer                        launcher (a relative symlink into /usr/lib/b24explorer)
    /usr/bin/b24x                               the command line (the same program, started by that name)
    /usr/share/applications/b24explorer.desktop desktop entry
    /usr/share/icons/hicolor/*/apps/            icons (PNG sizes + scalable SVG)
    /usr/share/doc/b24explorer/copyright
``Depends`` lists the Debian packages that provide every shared library the bundle loads from the system
(found with ldd + dpkg -S, the way dpkg-shlibdeps would), so ``apt install ./b24explorer_*.deb`` pulls in
exactly what the Qt platform plugins need (libxcb-cursor0, libxkbcommon-x11-0, libegl1, …).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# Used when dpkg -S cannot answer (e.g. packaging on a non-Debian host): what the Qt xcb platform needs.
FALLBACK_DEPENDS = (
    "libc6", "libstdc++6", "libgcc-s1", "zlib1g", "libglib2.0-0", "libfontconfig1", "libfreetype6",
    "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0",
    "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xinerama0",
    "libxcb-xkb1", "libxkbcommon0", "libxkbcommon-x11-0", "libegl1", "libgl1", "libdbus-1-3",
)
DESCRIPTION = """\
Desktop explorer for the Bitrix24 REST API
 Pick a Bitrix24 REST method, write its parameters as JSON, send it through
 your webhook and read the answer as a tree. REST v2 and v3, batches and
 list-all, request history, copy as code. Webhooks are kept in the system
 keyring, never on disk. Includes a local sandbox portal for trying it out.
"""


def log(message: str) -> None:
    print(f"[linux] {message}", flush=True)


def read_version() -> str:
    text = (ROOT / "b24explorer" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not match:
        raise SystemExit("cannot find __version__")
    return match.group(1)


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def system_libraries(app: Path) -> set[str]:
    """Absolute paths of the shared libraries the bundle resolves outside itself."""
    internal = app / "_internal"
    search = [internal, internal / "PySide6" / "Qt" / "lib"]
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(str(p) for p in search))
    found: set[str] = set()
    for path in app.rglob("*"):
        if not path.is_file() or path.is_symlink() or not is_elf(path):
            continue
        proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        for line in proc.stdout.splitlines():
            match = re.match(r"\s*(\S+) => (/\S+)", line)
            if match and not Path(match.group(2)).resolve().is_relative_to(app.resolve()):
                found.add(match.group(2))
    return found


def owning_package(library: str) -> str | None:
    real = os.path.realpath(library)
    candidates = {library, real}
    for path in list(candidates):  # merged /usr: dpkg may have registered either spelling
        if path.startswith("/usr/lib/"):
            candidates.add(path[len("/usr"):])
        elif path.startswith("/lib/"):
            candidates.add("/usr" + path)
    for path in sorted(candidates):
        proc = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout:
            package = proc.stdout.split(":", 1)[0].split(",")[0].strip()
            return package
    return None


def host_glibc() -> str | None:
    """The build host's glibc version: libraries copied from the host may need any symbol up to it."""
    try:
        name, _, ver = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
    except (ValueError, OSError, AttributeError):
        return None
    return ver if name == "glibc" and re.fullmatch(r"\d+\.\d+", ver) else None


def depends(app: Path) -> list[str]:
    if not shutil.which("dpkg") or not shutil.which("ldd"):
        log("dpkg or ldd missing: using the fallback dependency list")
        packages = set(FALLBACK_DEPENDS)
    else:
        packages = set()
        for library in sorted(system_libraries(app)):
            package = owning_package(library)
            if package is None:
                log(f"warning: no package owns {library}; not listed in Depends")
            else:
                packages.add(package)
    glibc = host_glibc()
    return [f"{p} (>= {glibc})" if p == "libc6" and glibc else p for p in sorted(packages)]


def install_tree(app: Path, root: Path) -> None:
    """The file system tree the .deb installs, under root."""
    lib = root / "usr" / "lib" / "b24explorer"
    shutil.copytree(app, lib, symlinks=True)
    bindir = root / "usr" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "b24explorer").symlink_to(Path("..") / "lib" / "b24explorer" / "b24explorer")
    (bindir / "b24x").symlink_to(Path("..") / "lib" / "b24explorer" / "b24explorer")  # the CLI (by its name)
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy2(RESOURCES / "b24explorer.desktop", applications / "b24explorer.desktop")
    icons = root / "usr" / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        target = icons / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy2(RESOURCES / "icons" / f"b24explorer-{size}.png", target / "b24explorer.png")
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(RESOURCES / "b24explorer.svg", icons / "scalable" / "apps" / "b24explorer.svg")
    doc = root / "usr" / "share" / "doc" / "b24explorer"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: b24explorer\n\n"
        "Files: *\nCopyright: b24explorer developers\nLicense: MIT\n\n"
        "Files: usr/lib/b24explorer/_internal/PySide6/*\nCopyright: The Qt Company Ltd.\n"
        "License: LGPL-3.0-only\n",
        encoding="utf-8",
    )
    for path in [root, *root.rglob("*")]:  # normal permissions whatever the build host's umask
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(0o755 if path.is_dir() or mode & 0o111 else 0o644)


def build_deb(app: Path, dist: Path, version: str) -> Path:
    arch = deb_arch()
    staging = ROOT / "build" / "deb" / f"b24explorer_{version}_{arch}"
    if staging.exists():
        shutil.rmtree(staging)
    install_tree(app, staging)
    installed_kib = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control_dir = staging / "DEBIAN"
    control_dir.mkdir()
    deps = depends(app)
    control = (
        f"Package: b24explorer\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: b24explorer developers <b24explorer@users.noreply.github.com>\n"
        f"Installed-Size: {installed_kib}\nDepends: {', '.join(deps)}\n"
        "Suggests: gnome-keyring | kwalletmanager | keepassxc\n"  # any Secret Service provider

        "Section: devel\nPriority: optional\n"
        f"Description: {DESCRIPTION}"
    )
    (control_dir / "control").write_text(control, encoding="utf-8")
    (control_dir / "control").chmod(0o644)
    control_dir.chmod(0o755)
    target = dist / f"b24explorer_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(staging), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    log(f"{target.name}: {target.stat().st_size / 1e6:.1f} MB, Depends: {', '.join(deps)}")
    return target


def build_tarball(app: Path, dist: Path, version: str) -> Path:
    name = f"b24explorer-{version}-linux-{os.uname().machine}"
    target = dist / f"{name}.tar.gz"

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(app, arcname=name, filter=normalise)
        cli = tarfile.TarInfo(f"{name}/b24x")  # started under this name the program is the command line
        cli.type, cli.linkname, cli.mode = tarfile.SYMTYPE, "b24explorer", 0o777
        tar.addfile(normalise(cli))
        tar.add(RESOURCES / "b24explorer.desktop", arcname=f"{name}/b24explorer.desktop", filter=normalise)
        tar.add(RESOURCES / "icons" / "b24explorer-256.png", arcname=f"{name}/b24explorer.png", filter=normalise)
    log(f"{target.name}: {target.stat().st_size / 1e6:.1f} MB")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Linux .tar.gz and .deb from dist/b24explorer.")
    parser.add_argument("--version", default=None)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-tarball", action="store_true")
    args = parser.parse_args(argv)
    version = args.version or read_version()
    app = args.dist / "b24explorer"
    if not (app / "b24explorer").is_file():
        print(f"no one-folder build at {app}; run packaging/build.py first", file=sys.stderr)
        return 2
    if not args.no_tarball:
        build_tarball(app, args.dist, version)
    build_deb(app, args.dist, version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
