"""`rasa test core` on the recorded test stories (tests/stories/): one conversation per policy
rule, over the shared fixture orders; every predicted step must match."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, rasa_executable
from tests.e2e.test_conversation_harness import POLICY_RULES

STORIES_DIR = PROJECT_ROOT / "tests" / "stories"

pytestmark = pytest.mark.rasa


def story_names() -> list:
    names = []
    for path in STORIES_DIR.glob("*.yml"):
        names += [story["story"] for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]]
    return names


def test_there_is_a_test_story_for_every_policy_rule():
    rules_with_a_story = {name.split()[0] for name in story_names()}
    assert POLICY_RULES <= rules_with_a_story


def test_the_dialogue_model_takes_every_step_of_every_story(trained_model: Path, tmp_path: Path):
    result = subprocess.run(
        [
            rasa_executable(),
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            str(STORIES_DIR),
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    predicted_wrong = [
        line for line in result.stdout.splitlines() + result.stderr.splitlines() if "# predicted:" in line
    ]
    assert result.returncode == 0, "\n".join(predicted_wrong) or result.stderr[-3000:]
    failed = yaml.safe_load((tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8"))
    assert not failed or not failed.get("stories"), failed
