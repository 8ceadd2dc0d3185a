"""Lexicon matching: sub-issue, remedy, item condition, product and satisfaction score.

The phrases live in `lexicon.yml` next to this module. Matching runs on
half-width, lower-cased text, leftmost-longest and without word
segmentation, and every match keeps its span in the original text. A phrase right after a
negation cue ("不是质量问题", "没坏") is marked `negated` and yields no entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

from bot.domain.vocabulary import ProductCategory, Remedy, SubIssue
from bot.nlu.normalization import NormalizedText, normalize_case_and_width

DEFAULT_LEXICON_PATH = Path(__file__).with_name("lexicon.yml")
ENTITY_KINDS = ("sub_issue", "remedy", "item_condition", "satisfaction_score")
IGNORED = "ignore"
CARRIER_DAMAGE = "carrier_damage"
CUE = "cue"
AMBIGUOUS_REFUND = "refund"
# "坏了" said of fruit or milk means spoiled, not a defect
SPOILED_WHEN_FRESH = frozenset(
    {"坏了", "坏掉了", "有异味", "臭味", "味道很大", "质量问题", "质量很差", "质量差", "质量不好"}
)
REFUND_ONLY_CONTEXT = frozenset(
    {SubIssue.NOT_SHIPPED, SubIssue.LOST, SubIssue.NOT_RECEIVED, SubIssue.DELAY, SubIssue.SPOILED}
)


class LexiconError(ValueError):
    """The lexicon file is missing or malformed."""


@dataclass(frozen=True)
class Phrase:
    text: str
    entity: str  # sub_issue | remedy | item_condition | satisfaction_score | product | cue | ignore
    value: str
    category: Optional[str] = None  # product policy category, or complaint category for cues


@dataclass(frozen=True)
class LexiconMatch:
    entity: str
    value: str
    start: int  # offsets in the original text
    end: int
    text: str
    negated: bool = False
    category: Optional[str] = None


class Lexicon:
    def __init__(
        self,
        phrases: Iterable[Phrase],
        negation_cues: Iterable[str],
        negation_fillers: Iterable[str],
        negatable: Iterable[str],
        praise: Iterable[str] = (),
        contrast: Iterable[str] = (),
        patterns: Iterable[Tuple[str, str, str]] = (),
    ) -> None:
        self.praise = tuple(_clean(word) for word in praise)
        self.contrast = tuple(_clean(word) for word in contrast)
        # one index per kind, so phrases of different kinds may overlap ("换大一码": size and exchange)
        phrases = list(phrases)
        self._phrases = tuple(phrases)
        ignored = [phrase for phrase in phrases if phrase.entity == IGNORED]
        self._indexes: Dict[str, Dict[str, List[Phrase]]] = {}
        for kind in sorted({phrase.entity for phrase in phrases} - {IGNORED}):
            index = self._indexes[kind] = {}
            for phrase in [p for p in phrases if p.entity == kind] + ignored:
                index.setdefault(phrase.text[0], []).append(phrase)
            for candidates in index.values():
                candidates.sort(key=lambda phrase: len(phrase.text), reverse=True)
        cues = "|".join(sorted((re.escape(cue) for cue in negation_cues), key=len, reverse=True))
        fillers = "|".join(sorted((re.escape(filler) for filler in negation_fillers), key=len, reverse=True))
        self._negation_before = re.compile(f"(?:{cues})(?:{fillers}){{0,2}}$") if cues else None
        self._negatable = frozenset(negatable)
        # (entity, value, compiled pattern): shapes a phrase list cannot enumerate ("被我家狗子啃了",
        # "还不到三周"); an `ignore` pattern hides every phrase inside its span
        self._patterns = tuple((entity, value, re.compile(pattern)) for entity, value, pattern in patterns)

    @classmethod
    def from_mapping(cls, data: Mapping) -> "Lexicon":
        phrases: List[Phrase] = []
        try:
            for entity in ENTITY_KINDS:
                for value, texts in (data.get(entity) or {}).items():
                    phrases.extend(Phrase(_clean(text), entity, str(value)) for text in texts)
            for category, entries in (data.get("product") or {}).items():
                ProductCategory(category)
                for names in entries:
                    canonical = _clean(names[0])
                    phrases.extend(Phrase(_clean(name), "product", canonical, category) for name in names)
            for category, texts in (data.get("category_cues") or {}).items():
                phrases.extend(Phrase(_clean(text), CUE, category, category) for text in texts)
            phrases.extend(Phrase(_clean(text), IGNORED, "") for text in data.get(IGNORED) or [])
            negation = data.get("negation") or {}
            return cls(
                phrases,
                negation.get("cues", []),
                negation.get("fillers", []),
                negation.get("applies_to", []),
                data.get("praise") or [],
                data.get("contrast") or [],
                _patterns(data.get("patterns") or {}),
            )
        except (AttributeError, TypeError, ValueError, IndexError, re.error) as error:
            raise LexiconError(f"词典格式不对：{error}") from error

    @classmethod
    def from_file(cls, path: Path = DEFAULT_LEXICON_PATH) -> "Lexicon":
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise LexiconError(f"读不了词典文件 {path}：{error}") from error
        if not isinstance(data, dict):
            raise LexiconError(f"词典文件 {path} 应该是一个 YAML 映射")
        return cls.from_mapping(data)

    def phrases(self) -> Tuple[Phrase, ...]:
        return self._phrases

    def scan(self, text: str) -> List[LexiconMatch]:
        """Every phrase occurrence, leftmost-longest, including negated ones and cues."""
        normalized = normalize_case_and_width(text)
        return self._scan_normalized(normalized)

    def _scan_normalized(self, normalized: NormalizedText) -> List[LexiconMatch]:
        matches: List[LexiconMatch] = []
        for index in self._indexes.values():
            matches.extend(self._scan_index(normalized, index))
        phrase_count = len(matches)
        hidden: List[Tuple[int, int]] = []
        denied: List[Tuple[str, str, int, int]] = []
        carrier_did_it = False
        for entity, value, pattern in self._patterns:
            for found in pattern.finditer(normalized.text):
                if found.end() == found.start():
                    continue
                start, end = normalized.span_in_original(found.start(), found.end())
                if entity == IGNORED:
                    hidden.append((start, end))
                    continue
                if entity == CARRIER_DAMAGE:
                    if not self._is_negated(normalized.text, found.start(), Phrase(found.group(0), "sub_issue", "")):
                        carrier_did_it = True
                    continue
                negated = self._is_negated(normalized.text, found.start(), Phrase(found.group(0), entity, value))
                if negated:  # "不是孩子把它摔坏的": the phrase inside ("摔坏") is denied with it
                    denied.append((entity, value, start, end))
                matches.append(
                    LexiconMatch(
                        entity=entity,
                        value=value,
                        start=start,
                        end=end,
                        text=normalized.original[start:end],
                        negated=negated,
                    )
                )
        if carrier_did_it:  # phrases only: a household pattern ("我不小心把它摔了") keeps its meaning
            matches[:phrase_count] = [
                _with_value(m, SubIssue.DAMAGED_IN_TRANSIT.value)
                if m.entity == "sub_issue" and m.value == SubIssue.HUMAN_DAMAGE
                else m
                for m in matches[:phrase_count]
            ]
        if hidden:
            matches = [m for m in matches if not any(m.start < end and start < m.end for start, end in hidden)]
        if denied:
            matches = [
                _negated(m)
                if any(m.entity == e and m.value == v and s <= m.start and m.end <= t for e, v, s, t in denied)
                else m
                for m in matches
            ]
        return sorted(matches, key=lambda match: (match.start, -match.end))

    def _scan_index(self, normalized: NormalizedText, index: Dict[str, List[Phrase]]) -> List[LexiconMatch]:
        text = normalized.text
        matches: List[LexiconMatch] = []
        position = 0
        while position < len(text):
            phrase = _longest_at(index, text, position)
            if phrase is None:
                position += 1
                continue
            end = position + len(phrase.text)
            if phrase.entity != IGNORED:
                start_original, end_original = normalized.span_in_original(position, end)
                matches.append(
                    LexiconMatch(
                        entity=phrase.entity,
                        value=phrase.value,
                        start=start_original,
                        end=end_original,
                        text=normalized.original[start_original:end_original],
                        negated=self._is_negated(text, position, phrase),
                        category=phrase.category,
                    )
                )
            position = end
        return matches

    def _is_negated(self, text: str, position: int, phrase: Phrase) -> bool:
        if self._negation_before is None or phrase.entity not in self._negatable:
            return False
        window = text[max(0, position - 8) : position]
        window = re.split(r"[,.!?;，。！？；、\s]", window)[-1]
        return bool(self._negation_before.search(window))


def _patterns(data: Mapping) -> List[Tuple[str, str, str]]:
    """`patterns:` in the lexicon: `ignore: [regex, ...]`, `carrier_damage: [regex, ...]` and
    `<entity>: {<value>: [regex, ...]}`."""
    found: List[Tuple[str, str, str]] = []
    for entity, entries in data.items():
        if entity in (IGNORED, CARRIER_DAMAGE):
            found.extend((entity, "", str(pattern)) for pattern in entries)
            continue
        if entity not in ENTITY_KINDS:
            raise ValueError(f"patterns 里的 {entity!r} 不是已知的类别")
        for value, patterns in entries.items():
            found.extend((entity, str(value), str(pattern)) for pattern in patterns)
    return found


def _longest_at(index: Dict[str, List[Phrase]], text: str, position: int) -> Optional[Phrase]:
    for phrase in index.get(text[position], ()):
        if text.startswith(phrase.text, position) and _on_ascii_boundary(text, position, position + len(phrase.text)):
            return phrase
    return None


def _clean(text: object) -> str:
    cleaned = normalize_case_and_width(str(text)).text.strip()
    if not cleaned:
        raise ValueError(f"空词条：{text!r}")
    return cleaned


def _on_ascii_boundary(text: str, start: int, end: int) -> bool:
    """An ASCII phrase must not start or end inside an ASCII word ("mate" in "ultimate"); a
    letter/digit change is a boundary, so "iphone15" still holds "iphone"."""

    def same_kind(a: str, b: str) -> bool:
        return a.isascii() and b.isascii() and ((a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit()))

    if start > 0 and same_kind(text[start - 1], text[start]):
        return False
    if end < len(text) and same_kind(text[end - 1], text[end]):
        return False
    return True


@lru_cache(maxsize=4)
def load_lexicon(path: Optional[str] = None) -> Lexicon:
    return Lexicon.from_file(Path(path) if path else DEFAULT_LEXICON_PATH)


def resolve_entities(matches: List[LexiconMatch]) -> List[LexiconMatch]:
    """The entities a message states: negated phrases and cues dropped, context rules applied."""
    stated = [m for m in matches if not m.negated and m.entity not in (CUE, IGNORED)]
    fresh_product = any(m.entity == "product" and m.category == ProductCategory.FRESH for m in stated)
    resolved: List[LexiconMatch] = []
    for match in stated:
        if (
            match.entity == "sub_issue"
            and match.value == SubIssue.DEFECT
            and fresh_product
            and normalize_case_and_width(match.text).text in SPOILED_WHEN_FRESH
        ):
            match = _with_value(match, SubIssue.SPOILED.value)
        resolved.append(match)
    sub_issues = {m.value for m in resolved if m.entity == "sub_issue"}
    refund_only = any(issue in REFUND_ONLY_CONTEXT for issue in sub_issues)
    final: List[LexiconMatch] = []
    seen = set()
    for match in resolved:
        if match.entity == "remedy" and match.value == AMBIGUOUS_REFUND:
            match = _with_value(match, (Remedy.REFUND_ONLY if refund_only else Remedy.RETURN_REFUND).value)
        if (match.entity, match.value) not in seen:
            seen.add((match.entity, match.value))
            final.append(match)
    return final


def _negated(match: LexiconMatch) -> LexiconMatch:
    return LexiconMatch(match.entity, match.value, match.start, match.end, match.text, True, match.category)


def _with_value(match: LexiconMatch, value: str) -> LexiconMatch:
    return LexiconMatch(match.entity, value, match.start, match.end, match.text, match.negated, match.category)
