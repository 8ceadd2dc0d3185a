"""Every text a buyer sees follows the shop's policy file: no number of the policy is written
into domain.yml or the explanations, and the answers render completely with a changed policy."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

from bot.policy import load_policy
from bot.services.cases import policy_answer_values
from tests.conftest import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
EXPLANATIONS = yaml.safe_load((PROJECT_ROOT / "bot" / "policy" / "explanations.zh.yml").read_text(encoding="utf-8"))
# a count of days, hours or working days written out instead of coming from the policy
HARD_CODED_PERIOD = re.compile(r"([0-9０-９]+|[一二两三四五六七八九十]+)\s*(天|小时|个工作日|周|个月)")
BLANKS = ("None", "{", "}", "—前", "最晚前", "（）")


def response_texts():
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            yield name, variant.get("text") or ""


def explanation_texts():
    for group in EXPLANATIONS.values():
        if isinstance(group, dict):
            yield from group.items()


@pytest.mark.parametrize("name, text", list(response_texts()) + list(explanation_texts()))
def test_no_policy_period_is_written_into_a_buyer_text(name, text):
    assert not HARD_CODED_PERIOD.search(text), f"{name}: {text}"


@pytest.fixture
def changed_policy(tmp_path: Path):
    data = yaml.safe_load((PROJECT_ROOT / "shop" / "policy.yml").read_text(encoding="utf-8"))
    data["no_reason_return"]["window_days"] = 10
    data["quality"]["return_window_days"] = 9
    data["quality"]["exchange_window_days"] = 21
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_policy(path)


def render(text: str, values: dict) -> str:
    names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    missing = names - set(values)
    assert not missing, f"unfilled placeholders {missing} in: {text}"
    return text.format(**values)


@pytest.mark.parametrize("name", [name for name in DOMAIN["responses"] if name.startswith("utter_ask_policy/")])
def test_policy_answers_render_completely_from_a_changed_policy(name, changed_policy):
    values = policy_answer_values(changed_policy)
    for variant in DOMAIN["responses"][name]:
        shown = render(variant["text"], values)
        assert not any(blank in shown for blank in BLANKS), shown


def test_a_changed_no_reason_window_reaches_every_answer_that_names_it(changed_policy):
    values = policy_answer_values(changed_policy)
    answers = {
        name: render(DOMAIN["responses"][name][0]["text"], values)
        for name in ("utter_ask_policy/return_window", "utter_ask_policy/return_shipping")
    }
    for name, shown in answers.items():
        assert "10天" in shown and "7天" not in shown and "七天" not in shown, (name, shown)
    quality = render(DOMAIN["responses"]["utter_ask_policy/quality_problem"][0]["text"], values)
    assert "9天" in quality and "21天" in quality
