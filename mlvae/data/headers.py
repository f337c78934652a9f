"""Metadata floods, found from a file's structure before PIL opens it.

PIL reads a PNG's chunks, a JPEG's segments before its first scan and a GIF's blocks before its first image one
by one in Python: a 16 MB PNG of 1.3 million unknown chunks took 12.8 s to open, a JPEG of many APP0 segments
10.7 s. ``metadata_flood`` walks the same structure with a cap on what it counts (a few thousand steps at most)
and says what is wrong; real images hold a few dozen such pieces.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

MAX_SMALL_PNG_CHUNKS = 4096  # PNG chunks under SMALL_CHUNK_BYTES (metadata, or image data cut very fine)
SMALL_CHUNK_BYTES = 1024  # an encoder's image-data chunks are 8 kB or more; only the last one is smaller
MAX_JPEG_SEGMENTS = 1024  # segments before a JPEG's first scan (an ICC profile split in 64 kB parts: a few dozen)
MAX_GIF_BLOCKS = 65536  # extension sub-blocks before a GIF's first image


def png_flood(f: BinaryIO) -> str | None:
    """The problem of a PNG holding more than MAX_SMALL_PNG_CHUNKS small chunks, else None."""
    f.seek(8)
    small = 0
    while True:
        header = f.read(8)
        if len(header) < 8 or header[4:8] == b"IEND":
            return None
        length = struct.unpack(">I", header[:4])[0]
        if length < SMALL_CHUNK_BYTES:
            small += 1
            if small > MAX_SMALL_PNG_CHUNKS:
                return f"a PNG of more than {MAX_SMALL_PNG_CHUNKS} small chunks (metadata, or data cut very fine)"
        f.seek(length + 4, 1)  # the data and its CRC


def jpeg_segments(f: BinaryIO) -> Iterator[tuple[int, int]]:
    """(marker, payload length) of each step through a JPEG's header from the file's position (just after its
    SOI): a fill byte or a marker without a segment is (marker, 0). While a step is handled the file stands at
    its payload; the next step starts after it. Ends after the first scan's header (0xDA), or at anything that is
    not a marker or is cut short."""
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return
        if marker[1] == 0xFF:  # fill byte
            f.seek(-1, 1)
            yield 0xFF, 0
            continue
        if marker[1] == 0x01 or 0xD0 <= marker[1] <= 0xD8:  # markers without a segment
            yield marker[1], 0
            continue
        raw = f.read(2)
        if len(raw) < 2:
            return
        start, length = f.tell(), max(struct.unpack(">H", raw)[0] - 2, 0)
        yield marker[1], length
        if marker[1] == 0xDA:
            return
        f.seek(start + length)


def jpeg_flood(f: BinaryIO) -> str | None:
    """The problem of a JPEG holding more than MAX_JPEG_SEGMENTS segments before its first scan, else None."""
    f.seek(2)
    for steps, (marker, _) in enumerate(jpeg_segments(f), 1):
        if marker == 0xDA:  # the first scan: libjpeg's
            return None
        if steps >= MAX_JPEG_SEGMENTS:
            return f"a JPEG of more than {MAX_JPEG_SEGMENTS} metadata segments before its image"
    return None


def gif_flood(f: BinaryIO) -> str | None:
    """The problem of a GIF holding more than MAX_GIF_BLOCKS extension sub-blocks before its first image."""
    f.seek(10)
    flags = f.read(3)
    if len(flags) < 3:
        return None
    if flags[0] & 0x80:  # a global colour table
        f.seek(3 << ((flags[0] & 7) + 1), 1)
    blocks = 0
    while True:
        introducer = f.read(1)
        if introducer != b"\x21":  # an image (0x2C), the end, or something PIL refuses itself
            return None
        f.seek(1, 1)  # the extension's label
        while True:
            size = f.read(1)
            if not size or size == b"\x00":
                break
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                return f"a GIF of more than {MAX_GIF_BLOCKS} metadata blocks before its image"
            f.seek(size[0], 1)
        if not size:
            return None


FLOODS: dict[bytes, Callable[[BinaryIO], str | None]] = {
    b"\x89PNG\r\n\x1a\n": png_flood, b"\xff\xd8": jpeg_flood, b"GIF87a": gif_flood, b"GIF89a": gif_flood,
}


def metadata_flood(path: str | Path) -> str | None:
    """What makes a PNG, JPEG or GIF file too costly to open (a flood of metadata), or None."""
    with open(path, "rb") as f:
        start = f.read(8)
        check = next((fn for magic, fn in FLOODS.items() if start.startswith(magic)), None)
        return check(f) if check else None
