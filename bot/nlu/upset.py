"""How upset a buyer is: a lexicon score that sends angry or abusive buyers to a person.

The phrases and weights live in `upset_lexicon.yml` next to this module, so a shop can tune
them without code. Matching runs on half-width, lower-cased text; a phrase right after a
negation cue ("不是骗子", "没有生气") does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

import yaml

from bot.nlu.normalization import normalize_case_and_width

DEFAULT_UPSET_LEXICON_PATH = Path(__file__).with_name("upset_lexicon.yml")
NEGATION_BEFORE = re.compile(r"(不是|不算|没有|没|并非|别说)$")


class Mood(str, Enum):
    CALM = "calm"
    UPSET = "upset"
    ABUSIVE = "abusive"


@dataclass(frozen=True)
class MoodAssessment:
    mood: Mood
    score: int
    matched: Tuple[str, ...] = ()

    @property
    def needs_person(self) -> bool:
        return self.mood is not Mood.CALM


@dataclass(frozen=True)
class UpsetLexicon:
    abuse: Tuple[str, ...]
    phrases: Dict[str, int] = field(default_factory=dict)
    threshold: int = 3
    punctuation_run: int = 3
    punctuation_weight: int = 1

    def assess(self, text: str) -> MoodAssessment:
        normalized = normalize_case_and_width(text or "").text
        abusive = tuple(term for term in self.abuse if _said(normalized, term))
        if abusive:
            return MoodAssessment(Mood.ABUSIVE, self.threshold, abusive)
        matched = _without_contained(tuple(term for term in self.phrases if _said(normalized, term)))
        score = sum(self.phrases[term] for term in matched)
        if re.search(r"[!?！？]{%d,}" % self.punctuation_run, normalized):
            score += self.punctuation_weight
            matched += ("！！！",)
        mood = Mood.UPSET if score >= self.threshold else Mood.CALM
        return MoodAssessment(mood, score, matched)


def _said(text: str, term: str) -> bool:
    """The term occurs at least once without a negation right before it."""
    start = text.find(term)
    while start != -1:
        if not NEGATION_BEFORE.search(text[max(0, start - 3) : start]):
            return True
        start = text.find(term, start + 1)
    return False


def _without_contained(terms: Tuple[str, ...]) -> Tuple[str, ...]:
    """ "气死我了" already counts "气死"."""
    return tuple(term for term in terms if not any(term != other and term in other for other in terms))


def load_upset_lexicon(path: Path = DEFAULT_UPSET_LEXICON_PATH) -> UpsetLexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    punctuation = raw.get("punctuation") or {}
    phrases = {
        normalize_case_and_width(str(term)).text: int(weight) for term, weight in (raw.get("phrases") or {}).items()
    }
    return UpsetLexicon(
        abuse=tuple(normalize_case_and_width(str(term)).text for term in raw.get("abuse") or ()),
        phrases=phrases,
        threshold=int(raw.get("upset_threshold", 3)),
        punctuation_run=int(punctuation.get("run_length", 3)),
        punctuation_weight=int(punctuation.get("weight", 1)),
    )


@lru_cache(maxsize=1)
def default_upset_lexicon() -> UpsetLexicon:
    return load_upset_lexicon()


def assess_mood(text: str) -> MoodAssessment:
    return default_upset_lexicon().assess(text)
