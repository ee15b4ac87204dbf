#!/usr/bin/env python3
"""Draws the extension's icons (icons/icon-{16,32,48,128}.png) and puts the
48 px one, as a data: URL, into page-bridge.js (the icon a wallet announces
must be raster, PROTOCOL section 12). Standard library only, so it runs
wherever Python 3 does; the PNGs are committed, so the build never runs it.
    python3 web-wallet/extension/tools/make-icons.py
"""
import base64
import math
import pathlib
import re
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent.parent
SIZES = (16, 32, 48, 128)
ANNOUNCED = 48
BACKGROUND = (0x1F, 0x3A, 0x8A)  # deep blue, like the widget's primary button
FOREGROUND = (0xFF, 0xFF, 0xFF)
SUPERSAMPLE = 4  # samples per axis per pixel, for smooth edges


def segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def coverage(u, v):
    """What covers the point (u, v) of the unit square: 0 outside, 1 the
    rounded square, 2 the letter K on it."""
    radius = 0.22
    cx = min(max(u, radius), 1 - radius)
    cy = min(max(v, radius), 1 - radius)
    if math.hypot(u - cx, v - cy) > radius:
        return 0
    stroke = 0.075
    strokes = (
        (0.34, 0.24, 0.34, 0.76),  # the stem
        (0.36, 0.53, 0.68, 0.24),  # upper arm
        (0.45, 0.45, 0.68, 0.76),  # lower leg
    )
    if any(segment_distance(u, v, *s) <= stroke for s in strokes):
        return 2
    return 1


def pixels(size):
    rows = []
    n = SUPERSAMPLE
    for y in range(size):
        row = bytearray([0])  # PNG filter type "none"
        for x in range(size):
            counts = [0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    u = (x + (sx + 0.5) / n) / size
                    v = (y + (sy + 0.5) / n) / size
                    counts[coverage(u, v)] += 1
            total = n * n
            opaque = counts[1] + counts[2]
            if opaque == 0:
                row += bytes(4)
                continue
            mix = counts[2] / opaque
            rgb = [round(b + (f - b) * mix) for b, f in zip(BACKGROUND, FOREGROUND)]
            row += bytes(rgb + [round(255 * opaque / total)])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels(size), 9))
        + chunk(b"IEND", b"")
    )


def main():
    for size in SIZES:
        data = png(size)
        (HERE / "icons" / f"icon-{size}.png").write_bytes(data)
        if size == ANNOUNCED:
            url = "data:image/png;base64," + base64.b64encode(data).decode()
    bridge = HERE / "page-bridge.js"
    text = bridge.read_text()
    text, count = re.subn(r'const ICON = "[^"]*";', f'const ICON = "{url}";', text)
    if count != 1:
        raise SystemExit("page-bridge.js has no line `const ICON = \"…\";` to update")
    bridge.write_text(text)
    print(f"icons written; page-bridge.js announces {len(url)} characters of icon")


if __name__ == "__main__":
    main()
