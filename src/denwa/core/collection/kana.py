"""Names in the banks' character set: half-width (JIS X 0201) katakana, A-Z, 0-9, space, symbols.

A Zengin file with コード区分 0 holds only single-byte Shift_JIS characters, and
the banks accept a subset of them in names: upper-case letters, digits, the
half-width katakana ｱ-ﾝ with ﾞ and ﾟ, space and a few symbols (which ones
differs by bank: the operator's ``kana_symbols`` setting).  Small kana are
written large (ｼﾖｳｺ, not ｼｮｳｺ).

The width conversion (hiragana → katakana, full-width → half-width, small →
large kana) is jaconv's; what is ours is the Zengin rules on top of it (the
``SUBSTITUTES`` table and the allowed set).
"""

from __future__ import annotations

from typing import NoReturn

import jaconv

from denwa.core.collection.errors import InvalidField, UnconvertibleText

KATAKANA = frozenset(chr(code) for code in range(ord("ｱ"), ord("ﾝ") + 1)) | {"ﾞ", "ﾟ"}
"""Half-width katakana the banks accept: ｱ (0xB1) to ﾝ (0xDD), dakuten and handakuten."""

LETTERS_AND_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")

DEFAULT_SYMBOLS = "().-/"
"""The symbols every bank we know of accepts in names (some also take , ｢ ｣ and ¥)."""

SUBSTITUTES = {
    "ｰ": "-",  # 長音: the banks write the long vowel as a hyphen (ｽ-ﾊﾟ-)
    "･": ".",  # 中黒: not in the set; the banks' guidance is a full stop
}
"""Characters the banks do not take, replaced by the ones they ask for."""


def allowed_characters(symbols: str = DEFAULT_SYMBOLS) -> frozenset[str]:
    """Every character a name may hold, with the operator's bank's ``symbols``."""
    return KATAKANA | LETTERS_AND_DIGITS | frozenset(symbols)


def to_bank_kana(text: str, field: str, *, symbols: str = DEFAULT_SYMBOLS) -> str:
    """``text`` converted to the banks' half-width set, or ``UnconvertibleText``.

    Hiragana and full-width katakana, letters, digits and spaces become
    half-width (small kana large, letters upper-case); runs of spaces become
    one; leading and trailing spaces go.  A character with no half-width form
    (a kanji, ヰ, ♪) is refused, naming ``field``, the character and its place.
    """
    wide = jaconv.h2z(text, kana=True)  # half-width kana first made full, so all convert alike
    large = jaconv.enlarge_smallkana(jaconv.hira2kata(wide))
    narrow = jaconv.z2h(large, kana=True, ascii=True, digit=True).upper()
    converted = " ".join("".join(SUBSTITUTES.get(c, c) for c in narrow).split())
    allowed = allowed_characters(symbols)
    for index, char in enumerate(converted):
        if char not in allowed:
            _refuse(field, text, converted, index)
    return converted


def fit(text: str, field: str, width: int) -> str:
    """``text`` unchanged if it fits ``width`` bytes (a dakuten is a byte of its own)."""
    if len(text) > width:
        raise InvalidField(
            field, f"{text!r} is {len(text)} characters long; the bank takes at most {width}"
        )
    return text


def _refuse(field: str, original: str, converted: str, index: int) -> NoReturn:
    """Raise naming the character as the operator typed it, where that can be found."""
    char = converted[index]
    at = original.find(char)
    if at >= 0:
        raise UnconvertibleText(field, original, at)
    raise UnconvertibleText(field, converted, index)
