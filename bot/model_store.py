"""Which trained model `python -m bot serve` runs, and when to train a new one.

A model is named after a fingerprint of everything its training reads: config.yml,
domain.yml, data/, the project's own Rasa components (bot/rasa_nlu, bot/nlu, bot/rasa_policies)
and the Rasa version: models/aftersales-<fingerprint>.tar.gz. When that file exists it is
used as it is: no `rasa train` run, no new ~100 MB file per start, and a model copied into
models/ (or kept from another clone of the same commit) is reused on a fresh clone. Rasa's
own fingerprint cache cannot do this: it lives in the git-ignored .rasa/ of one checkout.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, List, Optional

from bot.config import PROJECT_ROOT

MODEL_PREFIX = "aftersales-"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "bot/rasa_nlu", "bot/nlu", "bot/rasa_policies")
CODE_SUFFIXES = {".py", ".yml", ".yaml", ".txt", ".json", ".md"}


def _files(root: Path, inputs: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for name in inputs:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and (p.suffix in CODE_SUFFIXES or "data" == name)
            )
    return sorted(found)


def training_fingerprint(root: Path = PROJECT_ROOT) -> str:
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for path in _files(root, TRAINING_INPUTS):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT, fingerprint: Optional[str] = None) -> Path:
    return root / "models" / f"{MODEL_PREFIX}{fingerprint or training_fingerprint(root)}.tar.gz"


def current_model(root: Path = PROJECT_ROOT) -> Optional[Path]:
    """The model trained from the files as they are now, when it exists."""
    path = model_path(root)
    return path if path.exists() else None


def stale_models(root: Path = PROJECT_ROOT, keep: Optional[Path] = None) -> List[Path]:
    """Models of this project trained from older files (what a successful training replaces)."""
    return [p for p in (root / "models").glob(f"{MODEL_PREFIX}*.tar.gz") if p != keep]
