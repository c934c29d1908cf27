"""Bytes to text: UTF-8 first, byte-order marks next, then charset-normalizer's best guess."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

# Of the characters in a decoded text, more than this share being control characters means the
# "text" was binary that happened to decode.
_MAX_CONTROL_SHARE = 0.02
# Control characters, but for line breaks, tabs and form feeds, mapped to nothing: counted in C, as
# the difference they make to a text's length (a Python loop took 2 s for 80 MB of articles).
_DROP_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\r\t\f")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DecodeError(ValueError):
    """The bytes are not text in any encoding we read."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return the text and the name of the encoding it was read with."""
    if not data.strip():
        raise DecodeError("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError(f"invalid {encoding} after its byte-order mark: {exc.reason}") from None
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes and no UTF-16/32 byte-order mark)")
    try:
        return _checked(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise DecodeError("not text in any known encoding")
    return _checked(str(best)), best.encoding


def _checked(text: str) -> str:
    if not text.strip():
        raise DecodeError("empty file")
    control = len(text) - len(text.translate(_DROP_CONTROL))
    if control > _MAX_CONTROL_SHARE * len(text):
        raise DecodeError("binary file (too many control characters)")
    return text
