"""Bytes to text: the control-character test counts what a character-by-character count would."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from index._decode import DecodeError, decode_bytes

# Mostly characters near the line between text and binary: controls that count, the four that do
# not, DEL (not a control here), and characters of one to four UTF-8 bytes.
_MIXED = st.text(alphabet=st.sampled_from("a é中😀 \n\r\t\f\x01\x0b\x1b\x1f\x7f"), max_size=200)
_TEXTS = st.one_of(st.text(max_size=200), _MIXED)


def _verdict(text: str) -> str:
    """What decoding should say of ``text``, counted one character at a time."""
    if not text.strip():
        return "empty"
    control = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    return "binary" if control > 0.02 * len(text) else "text"


def _outcome(data: bytes) -> tuple[str, str | None]:
    try:
        text, encoding = decode_bytes(data)
    except DecodeError as exc:
        return ("empty" if "empty" in str(exc) else "binary"), None
    return "text", text if encoding in ("utf-8", "utf-16") else None


@given(_TEXTS)
def test_utf8_verdict_matches_a_count_of_characters(text: str) -> None:
    assume("\x00" not in text and not text.startswith("\ufeff"))
    verdict, decoded = _outcome(text.encode("utf-8"))
    assert verdict == _verdict(text)
    if verdict == "text":
        assert decoded == text


@given(_TEXTS)
def test_utf16_verdict_matches_a_count_of_characters(text: str) -> None:
    assume(not text.startswith("\ufeff"))
    verdict, decoded = _outcome(text.encode("utf-16"))  # with its byte-order mark
    assert verdict == _verdict(text)
    if verdict == "text":
        assert decoded == text


@pytest.mark.parametrize(
    ("share", "verdict"), [(0.02, "text"), (0.021, "binary")], ids=["at the limit", "past it"]
)
def test_the_limit_is_two_percent_of_characters(share: float, verdict: str) -> None:
    controls = round(1000 * share)
    text = "\x1b" * controls + "中" * (1000 - controls)  # 3 bytes a character: the share is of characters
    assert _outcome(text.encode("utf-8"))[0] == verdict
