"""Render the app icon from its SVG source into every format the installers need.

    python packaging/make_icons.py          # writes resources/icons/*.png, resources/b24explorer.ico/.icns

PNG rendering uses Qt's SVG renderer (part of PySide6-Essentials); the .ico and .icns containers are written
by the small stdlib writers below, so no image toolchain is needed on any build host. The outputs are
committed; run this again only after editing the SVG.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "b24explorer.svg"
PNG_DIR = ROOT / "resources" / "icons"
ICO = ROOT / "resources" / "b24explorer.ico"
ICNS = ROOT / "resources" / "b24explorer.icns"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Entries of an .icns file holding PNG data: type code -> pixel size.
ICNS_TYPES = {
    b"icp4": 16,
    b"icp5": 32,
    b"icp6": 64,
    b"ic07": 128,
    b"ic08": 256,
    b"ic09": 512,
    b"ic10": 1024,  # 512@2x
    b"ic11": 32,  # 16@2x
    b"ic12": 64,  # 32@2x
    b"ic13": 256,  # 128@2x
    b"ic14": 512,  # 256@2x
}


def render_rgba(svg: Path, size: int) -> tuple[bytes, bytes]:
    """The icon at size x size: (PNG bytes, straight-alpha RGBA pixels, rows top to bottom)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()

    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    stride = rgba.bytesPerLine()
    raw = bytes(rgba.constBits())
    pixels = b"".join(raw[row * stride : row * stride + size * 4] for row in range(size))
    return bytes(data.data()), pixels


def dib_entry(size: int, rgba: bytes) -> bytes:
    """A 32-bit BMP (DIB) icon image: BITMAPINFOHEADER, BGRA rows bottom-up, then an all-opaque AND mask."""
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows = []
    for y in range(size - 1, -1, -1):
        row = rgba[y * size * 4 : (y + 1) * size * 4]
        bgra = bytearray(row)
        bgra[0::4], bgra[2::4] = row[2::4], row[0::4]
        rows.append(bytes(bgra))
    mask_stride = ((size + 31) // 32) * 4
    return header + b"".join(rows) + bytes(mask_stride * size)


def write_ico(path: Path, images: dict[int, tuple[bytes, bytes]]) -> None:
    """An .ico: BMP entries up to 64 px (every Windows reads them), PNG entries above (Vista and later)."""
    sizes = sorted(images)
    payloads = [dib_entry(s, images[s][1]) if s <= 64 else images[s][0] for s in sizes]
    out = bytearray(struct.pack("<HHH", 0, 1, len(sizes)))
    offset = 6 + 16 * len(sizes)
    for size, payload in zip(sizes, payloads, strict=True):
        dim = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(payload), offset)
        offset += len(payload)
    for payload in payloads:
        out += payload
    path.write_bytes(bytes(out))


def write_icns(path: Path, pngs: dict[int, bytes]) -> None:
    """An .icns of PNG entries (macOS 10.7+)."""
    body = b"".join(
        code + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for code, size in ICNS_TYPES.items()
    )
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


def generate(svg: Path = SVG, png_dir: Path = PNG_DIR, ico: Path = ICO, icns: Path = ICNS) -> list[Path]:
    """Render svg and write every PNG size, the .ico and the .icns; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    needed = sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_TYPES.values()))
    images = {size: render_rgba(svg, size) for size in needed}

    png_dir.mkdir(parents=True, exist_ok=True)
    pngs = [png_dir / f"b24explorer-{size}.png" for size in PNG_SIZES]
    for size, path in zip(PNG_SIZES, pngs, strict=True):
        path.write_bytes(images[size][0])
    write_ico(ico, {s: images[s] for s in ICO_SIZES})
    write_icns(icns, {s: images[s][0] for s in set(ICNS_TYPES.values())})
    return [*pngs, ico, icns]


def main() -> int:
    for path in generate():
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:>8} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
