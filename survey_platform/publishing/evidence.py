"""Tiny deterministic evidence JPEGs for the synthetic inspection (no imaging library needed).

A baseline JPEG (ITU-T T.81) of one flat grey 8 × 8 block: one quantisation table, one-code Huffman tables (DC
difference category 0, AC end-of-block), and a comment segment (COM) carrying ``label``, so that every label gives
different bytes and therefore a different SHA-256. Decoders show it as a grey square.
"""

from __future__ import annotations

import struct

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
_APP0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_DQT = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
_SOF0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 8, 8, 1) + b"\x01\x11\x00"
# One code of length 1 ("0") per table: DC symbol 0 (difference category 0), AC symbol 0x00 (end of block).
_ONE_CODE = bytes([1] + [0] * 15) + b"\x00"
_DHT = (
    b"\xff\xc4"
    + struct.pack(">H", 20)
    + b"\x00"
    + _ONE_CODE
    + b"\xff\xc4"
    + struct.pack(">H", 20)
    + b"\x10"
    + _ONE_CODE
)
_SOS = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
# Entropy-coded data: DC "0" + EOB "0", padded with 1-bits: 0b00111111.
_SCAN = b"\x3f"


def evidence_jpeg(label: str) -> bytes:
    """A valid 8 × 8 grey JPEG whose comment segment holds ``label`` (UTF-8, at most 60,000 bytes)."""
    comment = label.encode("utf-8")
    if len(comment) > 60_000:
        raise ValueError("label too long for a JPEG comment")
    com = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return _SOI + _APP0 + com + _DQT + _SOF0 + _DHT + _SOS + _SCAN + _EOI
