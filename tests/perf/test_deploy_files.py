"""deploy/ stays in step with what runs here: the same endpoints, the same balancer file the
cluster test starts, images that copy files that exist, and pins that match constraints.txt.
(The images themselves cannot be built on this machine.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def pins(path):
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            found[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version.strip()
    return found


def test_runtime_requirements_use_the_pinned_versions():
    constraints = pins(PROJECT_ROOT / "constraints.txt")
    for part in ("rasa.txt", "actions.txt", "dev.txt", "benchmarks.txt"):
        for name, version in pins(PROJECT_ROOT / "requirements" / part).items():
            assert constraints.get(name) == version, f"requirements/{part}: {name}=={version} vs constraints.txt"
    actions = pins(PROJECT_ROOT / "requirements" / "actions.txt")
    assert "rasa" not in actions and "tensorflow" not in actions
    assert set(pins(PROJECT_ROOT / "requirements.txt")) >= set(pins(PROJECT_ROOT / "requirements" / "rasa.txt")) - {
        "redis"
    }


@pytest.mark.parametrize("dockerfile", ["Dockerfile.rasa", "Dockerfile.actions"])
def test_images_copy_files_that_exist(dockerfile):
    for line in (DEPLOY / dockerfile).read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                if "*" in source:
                    continue  # the trained model, named by its fingerprint
                assert (PROJECT_ROOT / source).exists(), f"{dockerfile}: {source}"


def test_every_place_uses_the_production_endpoints():
    production = yaml.safe_load((PROJECT_ROOT / "endpoints.production.yml").read_text())
    assert "endpoints.production.yml" in (DEPLOY / "Dockerfile.rasa").read_text()
    variables = set(re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / "endpoints.production.yml").read_text()))
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    for replica in ("rasa1", "rasa2"):
        assert variables <= set(compose["services"][replica]["environment"]), replica
    helm = yaml.safe_load((DEPLOY / "helm-values.yml").read_text())
    extra = helm["applicationSettings"]["endpoints"]["additionalEndpoints"]
    assert extra["tracker_store"] == production["tracker_store"]
    assert extra["lock_store"] == production["lock_store"]
    assert helm["replicaCount"] == 2
    assert helm["applicationSettings"]["telemetry"]["enabled"] is False
    assert compose["services"]["balancer"]["volumes"] == ["./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]


def test_balancer_file_is_valid():
    if not shutil.which("haproxy"):
        pytest.skip("没有 haproxy（scripts/ensure_balancer.sh 安装）")
    env = {
        **os.environ,
        "RASA_BIND": "127.0.0.1:1",
        "ACTIONS_BIND": "127.0.0.1:2",
        "RASA_1": "127.0.0.1:3",
        "RASA_2": "127.0.0.1:4",
        "ACTIONS_1": "127.0.0.1:5",
        "ACTIONS_2": "127.0.0.1:6",
    }
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
