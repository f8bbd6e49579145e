"""Build the one-folder app with PyInstaller, check it against its budgets, and package it for this OS.

    python packaging/build.py                  # clean venv in build/venv-package, then PyInstaller
    python packaging/build.py --current-venv   # use the running interpreter's environment (faster; CI)
    python packaging/build.py --no-package     # the one-folder app only, no .tar.gz + .deb / setup.exe / .dmg
    python packaging/build.py --no-measure     # skip the start-up comparison

Prints the size of the one-folder build against its 200 MB budget and the start-up of the frozen app against
the same code run from source (launch -> main window painted, reported by ``--self-test``). Exits non-zero
when the build fails, the build is over budget, or the frozen self-test fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "b24explorer.spec"
LAUNCHER = ROOT / "packaging" / "launcher.py"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
CLEAN_VENV = ROOT / "build" / "venv-package"
SIZE_BUDGET_MB = 200.0
START_RUNS = 5

WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def version() -> str:
    text = (ROOT / "b24explorer" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not match:
        raise SystemExit("cannot find __version__ in b24explorer/__init__.py")
    return match.group(1)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def make_clean_venv() -> Path:
    """A fresh venv with only the app's runtime dependencies and PyInstaller (one Qt binding, nothing else)."""
    if CLEAN_VENV.exists():
        shutil.rmtree(CLEAN_VENV)
    log(f"creating a clean venv in {CLEAN_VENV.relative_to(ROOT)}")
    subprocess.run([sys.executable, "-m", "venv", str(CLEAN_VENV)], check=True)
    python = venv_python(CLEAN_VENV)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{ROOT}[package]"], check=True)
    return python


def write_windows_version_info(ver: str) -> None:
    """The version resource of b24explorer.exe (Explorer's "Details" tab, installers, antivirus reputation)."""
    parts = [int(p) for p in re.findall(r"\d+", ver)[:4]]
    parts += [0] * (4 - len(parts))
    numbers = ", ".join(str(p) for p in parts)
    strings = {
        "CompanyName": "b24explorer developers",
        "FileDescription": "b24explorer - Bitrix24 REST explorer",
        "FileVersion": ver,
        "InternalName": "b24explorer",
        "OriginalFilename": "b24explorer.exe",
        "ProductName": "b24explorer",
        "ProductVersion": ver,
        "LegalCopyright": "MIT License",
    }
    entries = ",\n".join(f"          StringStruct('{k}', '{v}')" for k, v in strings.items())
    text = f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers=({numbers}), prodvers=({numbers}), mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
{entries}
    ])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
    target = ROOT / "build" / "file_version_info.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def run_pyinstaller(python: Path) -> float:
    if WINDOWS:
        write_windows_version_info(version())
    log(f"PyInstaller with {python}")
    started = time.perf_counter()
    subprocess.run(
        [str(python), "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)],
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def app_dir() -> Path:
    """The folder that gets shipped (the .app bundle on macOS)."""
    return DIST / ("b24explorer.app" if MACOS else "b24explorer")


def app_executable() -> Path:
    if MACOS:
        return DIST / "b24explorer.app" / "Contents" / "MacOS" / "b24explorer"
    return DIST / "b24explorer" / ("b24explorer.exe" if WINDOWS else "b24explorer")


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def selftest_env(home: Path, source: bool) -> dict[str, str]:
    env = dict(os.environ)
    if source:  # the checkout's package, whether or not the venv has it installed
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["B24X_HOME"] = str(home)
    env["B24X_LAUNCH_T0"] = repr(time.time())
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run_selftest(command: list[str], report: Path, *, source: bool = False) -> tuple[int, str, float, float | None]:
    """(exit code, report text, wall seconds, ms from launch to the window painted)."""
    with tempfile.TemporaryDirectory(prefix="b24x-selftest-") as home:
        env = selftest_env(Path(home), source)
        started = time.perf_counter()
        proc = subprocess.run([*command, "--self-test", "--report", str(report)], env=env,
                              capture_output=True, text=True, timeout=180)
        wall = time.perf_counter() - started
    text = report.read_text(encoding="utf-8") if report.exists() else proc.stdout + proc.stderr
    match = re.search(r"window painted (\d+) ms after launch", text)
    return proc.returncode, text, wall, float(match.group(1)) if match else None


def measure_start(python: Path) -> bool:
    """Compare launch -> window painted, frozen vs from source (same interpreter version and packages)."""
    frozen_cmd = [str(app_executable())]
    source_cmd = [str(python), str(LAUNCHER)]
    results: dict[str, list[tuple[float, float | None]]] = {"frozen": [], "source": []}
    ok = True
    with tempfile.TemporaryDirectory(prefix="b24x-report-") as scratch:
        for i in range(START_RUNS):
            for name, command in (("frozen", frozen_cmd), ("source", source_cmd)):
                report = Path(scratch) / f"{name}-{i}.txt"
                code, text, wall, painted = run_selftest(command, report, source=name == "source")
                if code != 0:
                    ok = False
                    log(f"{name} --self-test failed (exit {code}):\n{text}")
                if i == 0 and name == "frozen":
                    print(text, end="", flush=True)
                results[name].append((wall, painted))

    def figure(name: str) -> str:
        paints = [p for _, p in results[name] if p is not None]
        walls = ", ".join(f"{w:.2f}" for w, _ in results[name])
        if not paints:
            return f"n/a; self-test wall {walls} s"
        runs = ", ".join(f"{p:.0f}" for p in paints)
        return f"first {paints[0]:.0f} ms, median {statistics.median(paints):.0f} ms (runs: {runs}); self-test wall {walls} s"

    print(f"start (launch -> main window painted), frozen:      {figure('frozen')}")
    print(f"start (launch -> main window painted), from source: {figure('source')}")
    frozen = [p for _, p in results["frozen"] if p is not None]
    source = [p for _, p in results["source"] if p is not None]
    if frozen and source:
        ratio = statistics.median(frozen) / statistics.median(source)
        print(f"frozen / from source (medians): {ratio:.2f}x")
    return ok


def package(ver: str) -> None:
    if MACOS:
        subprocess.run(["bash", str(ROOT / "packaging" / "macos" / "make_dmg.sh"), ver], check=True, cwd=ROOT)
    elif WINDOWS:
        iscc = shutil.which("iscc") or r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe"
        if not Path(iscc).exists() and not shutil.which(iscc):
            raise SystemExit("Inno Setup 6 (ISCC.exe) is not installed: https://jrsoftware.org/isdl.php")
        subprocess.run([iscc, f"/DAppVersion={ver}", str(ROOT / "packaging" / "windows" / "b24explorer.iss")],
                       check=True, cwd=ROOT)
    else:
        subprocess.run([sys.executable, str(ROOT / "packaging" / "linux" / "package.py"), "--version", ver],
                       check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--current-venv", action="store_true",
                        help="build with the running interpreter's packages instead of a clean venv")
    parser.add_argument("--package", action=argparse.BooleanOptionalAction, default=True,
                        help="also build this OS's installer(s) (default; --no-package: the one-folder app only)")
    parser.add_argument("--no-measure", action="store_true", help="skip the frozen vs source start-up figures")
    args = parser.parse_args(argv)

    python = Path(sys.executable) if args.current_venv else make_clean_venv()
    seconds = run_pyinstaller(python)
    target = app_dir()
    if not app_executable().exists():
        log(f"no executable at {app_executable()}")
        return 1
    size_mb = tree_size(target) / 1e6
    within = size_mb <= SIZE_BUDGET_MB
    print(f"build time: {seconds:.0f} s")
    print(f"one-folder build {target.relative_to(ROOT)}: {size_mb:.1f} MB (budget {SIZE_BUDGET_MB:.0f} MB) "
          f"{'ok' if within else 'OVER BUDGET'}")
    ok = within
    if not args.no_measure:
        ok = measure_start(python) and ok
    if args.package:
        package(version())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
