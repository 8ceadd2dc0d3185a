"""Text normalisation that remembers where every character came from.

Levels:
- `normalize_width`: full-width ASCII to half-width and ideographic space to space; one
  character in, one character out. Identifier extraction works on this.
- `normalize_case_and_width`: the same plus lower case; the lexicon matches on this.
- `normalize_for_classifier`: also lower-cases, rewrites redaction placeholders
  (`[数字x]`, `[订单x]` ...) and digits into shapes, turns emoji into words or spaces and
  squeezes long character repeats, so the intent classifier sees one spelling per meaning.

Both return a `NormalizedText` whose `span_in_original` maps a span back to the input text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple

FULL_WIDTH_FIRST, FULL_WIDTH_LAST, FULL_WIDTH_OFFSET = 0xFF01, 0xFF5E, 0xFEE0
IDEOGRAPHIC_SPACE = "\u3000"

# Redaction layers replace personal data by `[kind]` or `[kindx]`; the classifier gets a
# stand-in with the same shape as the hidden value.
PLACEHOLDER_PATTERN = re.compile(r"\[([\u4e00-\u9fffA-Za-z_]{1,10}?)(?:x|X|_?\d{1,6})?\]")
PLACEHOLDER_STAND_INS = {
    "数字": "9",
    "订单": "9" * 16,
    "订单号": "9" * 16,
    "电话": "9" * 11,
    "手机": "9" * 11,
    "手机号": "9" * 11,
    "金额": "99元",
    "价格": "99元",
    "日期": "9月9日",
    "时间": "9点",
    "地址": "某地",
    "姓名": "某某",
    "人名": "某某",
    "邮箱": "邮箱",
    "链接": "链接",
}

EMOJI_WORDS = {
    "😡": "生气",
    "😠": "生气",
    "🤬": "生气",
    "💢": "生气",
    "😭": "哭",
    "😢": "哭",
    "😿": "哭",
    "😤": "气",
    "🙄": "无语",
    "😒": "无语",
    "😓": "无奈",
    "😩": "累",
    "😫": "累",
    "😂": "哈哈",
    "🤣": "哈哈",
    "😅": "尴尬",
    "👍": "好",
    "👌": "好",
    "❤": "喜欢",
    "😊": "开心",
    "😄": "开心",
    "😁": "开心",
    "🙂": "好",
    "🙏": "谢谢",
    "👎": "差",
    "💔": "失望",
    "😞": "失望",
    "😔": "失望",
    "❓": "?",
    "❔": "?",
    "❗": "!",
    "❕": "!",
}
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
    (0x20E3, 0x20E3),
)
MAX_REPEAT = 3


@dataclass(frozen=True)
class NormalizedText:
    """`text` plus, per character, the [start, end) span it came from in `original`."""

    original: str
    text: str
    origins: Tuple[Tuple[int, int], ...]

    def span_in_original(self, start: int, end: int) -> Tuple[int, int]:
        if start >= end:
            position = self.origins[start][0] if start < len(self.origins) else len(self.original)
            return position, position
        return self.origins[start][0], self.origins[end - 1][1]


class _Builder:
    def __init__(self, original: str) -> None:
        self.original = original
        self.chars: List[str] = []
        self.origins: List[Tuple[int, int]] = []

    def add(self, text: str, start: int, end: int) -> None:
        for char in text:
            self.chars.append(char)
            self.origins.append((start, end))

    def build(self) -> NormalizedText:
        return NormalizedText(self.original, "".join(self.chars), tuple(self.origins))


def half_width(char: str) -> str:
    code = ord(char)
    if FULL_WIDTH_FIRST <= code <= FULL_WIDTH_LAST:
        return chr(code - FULL_WIDTH_OFFSET)
    if char == IDEOGRAPHIC_SPACE:
        return " "
    return char


def is_emoji(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in EMOJI_RANGES)


def normalize_width(text: str) -> NormalizedText:
    builder = _Builder(text)
    for index, char in enumerate(text):
        builder.add(half_width(char), index, index + 1)
    return builder.build()


def normalize_case_and_width(text: str) -> NormalizedText:
    """Half-width and lower case, one character in, one out: what the lexicon matches on."""
    builder = _Builder(text)
    for index, char in enumerate(text):
        builder.add(half_width(char).lower(), index, index + 1)
    return builder.build()


def placeholder_stand_in(kind: str) -> str:
    """Stand-in text for a redaction placeholder of the given kind (`数字`, `订单`, ...)."""
    if kind in PLACEHOLDER_STAND_INS:
        return PLACEHOLDER_STAND_INS[kind]
    for known, stand_in in PLACEHOLDER_STAND_INS.items():
        if kind.startswith(known):
            return stand_in
    return kind  # an unknown kind is itself a meaningful word (站点, 商品 ...)


def normalize_for_classifier(text: str) -> NormalizedText:
    builder = _Builder(text)
    index = 0
    previous, repeats = "", 0
    while index < len(text):
        placeholder = PLACEHOLDER_PATTERN.match(text, index)
        if placeholder:
            builder.add(placeholder_stand_in(placeholder.group(1)), index, placeholder.end())
            previous, repeats = "", 0
            index = placeholder.end()
            continue
        char = text[index]
        if char in EMOJI_WORDS:
            replacement = EMOJI_WORDS[char]
        elif is_emoji(char):
            replacement = " "
        else:
            replacement = half_width(char).lower()
            if replacement.isdigit():
                replacement = "9"
        if replacement == previous:
            repeats += 1
        else:
            previous, repeats = replacement, 1
        if repeats <= MAX_REPEAT or replacement.isdigit():
            builder.add(replacement, index, index + 1)
        index += 1
    return builder.build()


# What no channel passes on: lone UTF-16 surrogates (not encodable, they crash the tracker
# store), NUL (PostgreSQL refuses it) and the other C0/C1 control characters except tab and
# newline.
_UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_inbound_text(text: str) -> str:
    """A buyer's text as it may be stored and processed: unsafe characters removed, "\\r\\n"
    and "\\r" as "\\n", outer whitespace stripped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_CHARACTERS.sub("", text).strip()


def has_unsafe_characters(text: str) -> bool:
    return _UNSAFE_CHARACTERS.search(text) is not None
