"""One vocabulary: each code's Chinese label is defined once, in bot/domain/vocabulary.py, and
domain.yml's buyer labels and buttons agree with it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import yaml

from bot.domain import vocabulary
from bot.domain.vocabulary import (
    BUYER_LABEL_CATALOGUE_KINDS,
    BUYER_LABEL_CODES,
    LABELS_ZH,
    Remedy,
    buyer_label_response,
)
from tests.conftest import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
CATALOGUE = PROJECT_ROOT / "bot" / "domain" / "vocabulary.py"
SCANNED_DIRECTORIES = ("bot", "actions", "channels", "scripts")
SCANNED_BROWSER_FILES = ("web",)
# field names ("status", "description" ...) are ordinary words in any JSON: only the catalogue's
# value codes are looked for
FIELD_KINDS = {"field"}
# a table: one literal that maps this many codes of one kind to Chinese (a single code may be a
# word of another vocabulary: a transcript's speaker "agent", an import file's field "paid_at")
TABLE_SIZE = 2
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<entities>\{.*\})?$", re.S)
# entity of a button payload -> the catalogue kind of its value
ENTITY_KINDS = {"sub_issue": "sub_issue", "remedy": "remedy", "complaint_category": "category"}


def catalogue_codes() -> Dict[str, Set[str]]:
    """Every value code of the catalogue -> the kinds it belongs to."""
    kinds: Dict[str, Set[str]] = {}
    for kind, labels in LABELS_ZH.items():
        if kind not in FIELD_KINDS:
            for code in labels:
                kinds.setdefault(str(code), set()).add(kind)
    return kinds


CODES = catalogue_codes()


def tables(entries: List[Tuple[int, str]]) -> List[Tuple[int, str, List[str]]]:
    """(line, kind, codes) for every kind of which the (line, code) entries of one literal hold
    TABLE_SIZE codes or more."""
    found = []
    for kind in sorted({kind for _, code in entries for kind in CODES.get(code, ())}):
        codes = [code for _, code in entries if kind in CODES.get(code, ())]
        if len(codes) >= TABLE_SIZE:
            found.append((min(line for line, code in entries if code in codes), kind, codes))
    return found


# ---- a second definition in the code ----------------------------------------------------------


def _code_of(key: ast.expr) -> str | None:
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    # Priority.URGENT and the like
    if isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name):
        enum = getattr(vocabulary, key.value.id, None)
        member = getattr(enum, key.attr, None) if isinstance(enum, type) else None
        return str(member.value) if member is not None and hasattr(member, "value") else None
    return None


def label_tables_in_python(source: str) -> List[Tuple[int, str, List[str]]]:
    """(line, kind, codes) of every dict literal that maps codes of a catalogue kind to Chinese."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            found += tables(
                [
                    (key.lineno, _code_of(key))
                    for key, value in zip(node.keys, node.values)
                    if key is not None
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and CHINESE.search(value.value)
                ]
            )
    return found


# a JavaScript object literal (no nested braces), and its `urgent: "紧急"` / `"urgent": "紧急"` entries
JS_OBJECT = re.compile(r"\{[^{}]*\}")
JS_ENTRY = re.compile(r"""["']?\b(?P<code>\w+)\b["']?\s*:\s*["'][^"'\n]*[\u4e00-\u9fff][^"'\n]*["']""")


def label_tables_in_javascript(source: str) -> List[Tuple[int, str, List[str]]]:
    found = []
    for literal in JS_OBJECT.finditer(source):
        found += tables(
            [
                (source.count("\n", 0, literal.start() + entry.start()) + 1, entry["code"])
                for entry in JS_ENTRY.finditer(literal.group())
            ]
        )
    return found


def project_files(directories, suffixes) -> Iterator[Path]:
    for directory in directories:
        for path in sorted((PROJECT_ROOT / directory).rglob("*")):
            if path.suffix in suffixes and path != CATALOGUE and path.is_file():
                yield path


def test_the_scanner_finds_a_label_table_written_out_again():
    python = 'from bot.domain.vocabulary import Priority\nPRIORITY_ZH = {Priority.URGENT: "紧急", "high": "高"}\n'
    javascript = 'var x = 1;\nvar names = { urgent: "紧急", "normal": "普通", colour: "红色" };'
    assert label_tables_in_python(python) == [(2, "priority", ["urgent", "high"])]
    assert label_tables_in_javascript(javascript) == [(2, "priority", ["urgent", "normal"])]
    # one code among other words is no table of its kind
    assert label_tables_in_python('WHO = {"agent": "客服", "bot": "机器人", "数字": "9"}') == []


def test_no_catalogue_label_is_defined_a_second_time():
    """A table of Chinese labels keyed by catalogue codes outside bot/domain/vocabulary.py is a
    second definition: use `label_zh(kind, code)` or `LABELS_ZH[kind]` instead."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {kind} labels of {', '.join(codes)}"
        for path in project_files(SCANNED_DIRECTORIES, {".py"})
        for line, kind, codes in label_tables_in_python(path.read_text(encoding="utf-8"))
    ] + [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {kind} labels of {', '.join(codes)}"
        for path in project_files(SCANNED_BROWSER_FILES, {".js", ".html"})
        for line, kind, codes in label_tables_in_javascript(path.read_text(encoding="utf-8"))
    ]
    assert found == []


# ---- domain.yml --------------------------------------------------------------------------------


def buyer_label(kind: str, code) -> str:
    variants = DOMAIN["responses"][buyer_label_response(kind, code)]
    assert len(variants) == 1, f"{buyer_label_response(kind, code)} has {len(variants)} variants"
    return variants[0]["text"]


def test_domain_has_one_buyer_label_for_every_code_and_none_for_unknown_codes():
    expected = {buyer_label_response(kind, code) for kind, codes in BUYER_LABEL_CODES.items() for code in codes}
    expected.add(buyer_label_response("remedy", "none"))
    present = {name for name in DOMAIN["responses"] if name.startswith("utter_label_")}
    assert present == expected
    for name in expected:
        assert len(DOMAIN["responses"][name]) == 1 and DOMAIN["responses"][name][0]["text"].strip(), name


@pytest.mark.parametrize("kind", sorted(BUYER_LABEL_CODES))
def test_a_buyer_label_never_names_another_code(kind):
    """The buyer's words may differ from the agents' (「由您承担」 / 「买家承担」), but a buyer label
    is never another code's label: two codes never share one, and none is the catalogue's label
    of a different code."""
    catalogue = LABELS_ZH[BUYER_LABEL_CATALOGUE_KINDS[kind]]
    labels = {str(code): buyer_label(kind, code) for code in BUYER_LABEL_CODES[kind]}
    assert len(set(labels.values())) == len(labels), labels
    for code, text in labels.items():
        named = [str(other) for other, label in catalogue.items() if label == text]
        assert named in ([], [code]), f"{kind} {code}: 「{text}」 is the catalogue's label of {named}"


def test_the_remedies_a_buyer_picks_by_name_are_labelled_as_the_catalogue_says():
    """A buyer (and the simulated buyers of the benchmarks) types a remedy's catalogue name; the
    remedy buttons show the buyer label, which carries that name."""
    for remedy in (
        Remedy.RETURN_REFUND,
        Remedy.EXCHANGE,
        Remedy.REPAIR,
        Remedy.PAID_REPAIR,
        Remedy.RESHIP,
        Remedy.REFUND_ONLY,
    ):
        assert LABELS_ZH["remedy"][remedy] in buyer_label("remedy", remedy), remedy


def domain_buttons() -> Iterator[Tuple[str, str, str]]:
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                yield name, button["title"], button["payload"]


def test_every_button_carries_catalogue_codes_and_agrees_with_their_labels():
    checked = 0
    for name, title, payload in domain_buttons():
        match = PAYLOAD.match(payload.replace("{{", "{").replace("}}", "}"))
        if not match or not match["entities"]:
            continue
        for entity, value in json.loads(match["entities"]).items():
            if entity not in ENTITY_KINDS:
                continue
            labels = LABELS_ZH[ENTITY_KINDS[entity]]
            assert value in labels, f"{name}: button 「{title}」 sets {entity} to {value!r}, not a catalogue code"
            named = [str(code) for code, label in labels.items() if label == title]
            assert named in ([], [value]), f"{name}: 「{title}」 is the catalogue's label of {named}, not of {value}"
            checked += 1
    assert checked >= 10  # the sub-issue questions alone have more
