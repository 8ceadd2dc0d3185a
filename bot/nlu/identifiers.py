"""Order numbers, ticket numbers and phone last-4 digits, found without word segmentation.

The text is width-normalised, cut into ASCII letter/digit "atoms" (a letter/digit change also
starts a new atom) and joined across small separators (spaces, dashes, dots), so
`1234 5678-9012 3456`, `１２３４...` and `订单号:1234567890123456。` all yield the same value.
A candidate is a run of whole atoms, so an identifier is never cut out of a longer number.
Offsets of every match point into the caller's original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from bot.nlu.normalization import normalize_width

DEFAULT_ORDER_NUMBER_PATTERN = r"\d{16}"
DEFAULT_TICKET_NUMBER_PATTERN = r"AS\d{12}"

ATOM_PATTERN = re.compile(r"[0-9]+|[A-Za-z]+")
SEPARATOR_PATTERN = re.compile(r"[ \t\-_.·—–~/]{1,3}")
PHONE_CUE_PATTERN = re.compile(r"(尾号|后四位|后4位|末四位|末4位|后四个|后4个|手机|电话|号码|联系方式|预留)")
# A 4-digit number followed by one of these is a quantity, date or price, not a phone suffix.
NOT_PHONE_SUFFIX = re.compile(
    r"^\s*(年|月|日|号楼|元|块|天|个|件|次|米|克|毫升|ml|mah|w|g|kg|cm|mm|p\b)", re.IGNORECASE
)
BARE_MESSAGE_FILLER = re.compile(r"^[\s,.!?;:，。！？、：；~]*(?:是|就是|尾号是?|号码是?)?\s*$")
PHONE_CUE_AFTER = re.compile(r"^\s*(是|为)?(我的)?(手机|电话)?(尾号|后四位|后4位)")
MOBILE_NUMBER = re.compile(r"1[3-9]\d{9}")
# digits spelled out one by one ("尾号六七一二", "幺三八"): four or more in a row are a number
SPELLED_DIGITS = re.compile(r"[〇零一二三四五六七八九幺两]{4,}")
SPELLED_DIGIT_VALUES = str.maketrans("〇零一二三四五六七八九幺两", "0012345678912")
# a letter O or l typed among digits ("94710382655309O8") is the digit it looks like
LOOKALIKE_IN_DIGITS = re.compile(r"(?:(?<=\d)|(?<=\d[ \-]))[OoIl](?=\d)")
LOOKALIKE_VALUES = str.maketrans("OoIl", "0011")
PHONE_CUE_WINDOW = 10


@dataclass(frozen=True)
class Identifier:
    entity: str  # order_number | ticket_number | phone_last4
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class _Atom:
    text: str
    start: int  # offsets in the normalised text (same length as the original)
    end: int


def _atom_runs(text: str) -> List[List[_Atom]]:
    """Groups of atoms that touch or are separated only by a short separator."""
    runs: List[List[_Atom]] = []
    current: List[_Atom] = []
    for match in ATOM_PATTERN.finditer(text):
        atom = _Atom(match.group(), match.start(), match.end())
        if current:
            gap = text[current[-1].end : atom.start]
            if gap and not SEPARATOR_PATTERN.fullmatch(gap):
                runs.append(current)
                current = []
        current.append(atom)
    if current:
        runs.append(current)
    return runs


def _compile(pattern: str) -> "re.Pattern[str]":
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"编号的正则表达式无效：{pattern!r}（{error}）") from error


def _match_runs(
    runs: List[List[_Atom]], pattern: "re.Pattern[str]", taken: List[Tuple[int, int]]
) -> List[Tuple[str, int, int]]:
    """Longest whole-atom sequences matching `pattern`, leftmost first, not overlapping `taken`."""
    found: List[Tuple[str, int, int]] = []
    for run in runs:
        index = 0
        while index < len(run):
            best: Optional[Tuple[int, str]] = None
            for last in range(len(run) - 1, index - 1, -1):
                joined = "".join(atom.text for atom in run[index : last + 1])
                if pattern.fullmatch(joined):
                    best = (last, joined)
                    break
            if best is not None:
                start, end = run[index].start, run[best[0]].end
                if not any(start < t_end and t_start < end for t_start, t_end in taken):
                    found.append((best[1].upper(), start, end))
                    taken.append((start, end))
                    index = best[0] + 1
                    continue
            index += 1
    return found


def _is_bare_number_message(text: str, start: int, end: int) -> bool:
    return bool(BARE_MESSAGE_FILLER.match(text[:start])) and bool(BARE_MESSAGE_FILLER.match(text[end:]))


def _untaken_sequences(run: List[_Atom], taken: List[Tuple[int, int]]) -> List[Tuple[List[_Atom], bool]]:
    """Maximal stretches of `run` not inside an identifier found earlier, and whether such an
    identifier comes right before the stretch."""
    sequences: List[Tuple[List[_Atom], bool]] = []
    current: List[_Atom] = []
    after_identifier = False
    for atom in run:
        if any(atom.start < t_end and t_start < atom.end for t_start, t_end in taken):
            if current:
                sequences.append((current, after_identifier))
                current = []
            after_identifier = True
            continue
        current.append(atom)
    if current:
        sequences.append((current, after_identifier))
    return sequences


def _phone_last4(text: str, runs: List[List[_Atom]], taken: List[Tuple[int, int]]) -> List[Tuple[str, int, int]]:
    found: List[Tuple[str, int, int]] = []
    for run in runs:
        for sequence, after_identifier in _untaken_sequences(run, taken):
            if not all(atom.text.isdigit() for atom in sequence):
                continue
            joined = "".join(atom.text for atom in sequence)
            start, end = sequence[0].start, sequence[-1].end
            if MOBILE_NUMBER.fullmatch(joined):
                found.append((joined[-4:], start, end))
                continue
            if len(sequence) != 1 or len(joined) != 4 or NOT_PHONE_SUFFIX.match(text[end:]):
                continue
            cue_before = PHONE_CUE_PATTERN.search(text[max(0, start - PHONE_CUE_WINDOW) : start])
            if (
                cue_before
                or PHONE_CUE_AFTER.match(text[end:])
                or after_identifier
                or _is_bare_number_message(text, start, end)
            ):
                found.append((joined, start, end))
    return found


def extract_identifiers(
    text: str,
    order_number_pattern: str = DEFAULT_ORDER_NUMBER_PATTERN,
    ticket_number_pattern: str = DEFAULT_TICKET_NUMBER_PATTERN,
) -> List[Identifier]:
    """All ticket numbers, order numbers and phone last-4s in `text`, in text order."""
    normalized = normalize_width(text)
    digits = SPELLED_DIGITS.sub(lambda run: run.group().translate(SPELLED_DIGIT_VALUES), normalized.text)
    digits = LOOKALIKE_IN_DIGITS.sub(lambda letter: letter.group().translate(LOOKALIKE_VALUES), digits)
    runs = _atom_runs(digits)
    taken: List[Tuple[int, int]] = []
    identifiers: List[Identifier] = []
    for entity, matches in (
        ("ticket_number", _match_runs(runs, _compile(ticket_number_pattern), taken)),
        ("order_number", _match_runs(runs, _compile(order_number_pattern), taken)),
        ("phone_last4", _phone_last4(digits, runs, taken)),
    ):
        for value, start, end in matches:
            original_start, original_end = normalized.span_in_original(start, end)
            identifiers.append(Identifier(entity, value, original_start, original_end))
    return sorted(identifiers, key=lambda identifier: identifier.start)


def order_numbers(text: str, pattern: str = DEFAULT_ORDER_NUMBER_PATTERN) -> Sequence[str]:
    return [i.value for i in extract_identifiers(text, order_number_pattern=pattern) if i.entity == "order_number"]
