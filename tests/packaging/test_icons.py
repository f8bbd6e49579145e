"""The app icon: the committed PNG/ICO/ICNS files are the SVG source rendered, and each container is valid."""

from __future__ import annotations

import configparser
import importlib.util
import struct
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QImageReader

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"


def _make_icons():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_icons = _make_icons()


def _image(data: bytes, fmt: str | None = None, index: int = 0) -> QImage:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, fmt.encode() if fmt else QByteArray())
    if index:
        assert reader.jumpToImage(index), f"no image #{index}"
    image = reader.read()
    assert not image.isNull(), reader.errorString()
    return image.convertToFormat(QImage.Format.Format_RGBA8888)


def _pixels(image: QImage) -> bytes:
    stride = image.bytesPerLine()
    raw = bytes(image.constBits())
    return b"".join(raw[y * stride : y * stride + image.width() * 4] for y in range(image.height()))


def _max_channel_diff(a: bytes, b: bytes) -> int:
    assert len(a) == len(b)
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def _mean_channel_diff(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def test_committed_icons_are_the_svg_rendered(qapp, tmp_path: Path) -> None:
    """Regenerating from the SVG gives the committed files (pixels compared: zlib and Qt versions may differ)."""
    written = make_icons.generate(png_dir=tmp_path / "icons", ico=tmp_path / "app.ico", icns=tmp_path / "app.icns")
    assert len(written) == len(make_icons.PNG_SIZES) + 2
    for size in make_icons.PNG_SIZES:
        fresh = _pixels(_image((tmp_path / "icons" / f"b24explorer-{size}.png").read_bytes()))
        committed = _pixels(_image((RESOURCES / "icons" / f"b24explorer-{size}.png").read_bytes()))
        assert _mean_channel_diff(fresh, committed) < 1.0, f"{size}px differs from the SVG: run make_icons.py"


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_png_sizes(qapp, size: int) -> None:
    image = _image((RESOURCES / "icons" / f"b24explorer-{size}.png").read_bytes(), "png")
    assert (image.width(), image.height()) == (size, size)
    assert image.pixelColor(0, 0).alpha() == 0, "corners are transparent (rounded tile)"
    middle = image.pixelColor(size // 2, size // 2)
    assert middle.alpha() == 255
    edge = image.pixelColor(size // 2, max(1, size // 10))
    assert edge.blue() > edge.red() + 60, f"the tile is Bitrix blue, got {edge.name()}"


def test_ico_holds_every_size_and_matches_the_pngs(qapp) -> None:
    data = (RESOURCES / "b24explorer.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, _h, _colors, _res, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert (planes, bpp) == (1, 32)
        assert offset + length <= len(data)
        sizes.append(w or 256)
    assert sizes == list(make_icons.ICO_SIZES)
    for index, size in enumerate(sizes):
        decoded = _image(data, "ico", index)
        assert (decoded.width(), decoded.height()) == (size, size)
        png = _image((RESOURCES / "icons" / f"b24explorer-{size}.png").read_bytes())
        # Exact for the PNG entries; the BMP entries store straight alpha, so edge pixels may round by 1-2.
        assert _max_channel_diff(_pixels(decoded), _pixels(png)) <= 3, f"ico entry {size}px is not the icon"


def test_icns_structure_and_entries(qapp) -> None:
    data = (RESOURCES / "b24explorer.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    offset, seen = 8, {}
    while offset < len(data):
        code, length = data[offset : offset + 4], struct.unpack_from(">I", data, offset + 4)[0]
        assert length > 8
        assert offset + length <= len(data)
        payload = data[offset + 8 : offset + length]
        assert payload.startswith(b"\x89PNG")
        image = _image(payload, "png")
        seen[code] = image.width()
        offset += length
    assert seen == {code: size for code, size in make_icons.ICNS_TYPES.items()}
    assert _image(data, "icns").width() > 0  # Qt's own icns reader accepts the file


def test_desktop_entry() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(RESOURCES / "b24explorer.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "b24explorer"
    assert entry["Icon"] == "b24explorer"  # resolved through the hicolor theme the .deb installs into
    assert entry["Terminal"] == "false"
    assert "Development" in entry["Categories"].split(";")
    assert entry["Categories"].endswith(";")
    assert entry["Keywords"].endswith(";")
    assert entry["StartupWMClass"] == "b24explorer"  # QGuiApplication.setDesktopFileName("b24explorer")
    for action in filter(None, entry["Actions"].split(";")):  # right-click entries of the launcher
        section = parser[f"Desktop Action {action}"]
        assert section["Name"]
        assert section["Exec"].split()[0] == "b24explorer"
    assert parser["Desktop Action sandbox"]["Exec"] == "b24explorer --sandbox"
