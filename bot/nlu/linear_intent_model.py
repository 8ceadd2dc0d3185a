"""A regularised linear intent model over blocks of sparse count features.

Count blocks (word and character n-gram counts) are TF-IDF weighted with sublinear term
frequency and L2-normalised per block; binary blocks (lexicon features) are used as they are.
Multinomial logistic regression on top. Measured in docs/nlu-report.md: on real buyer text
this generalises better than DIET trained on the same few thousand sentences.

The fitted model is plain arrays (saved as .npz + .json), so loading runs no pickled code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import numpy as np
import scipy.sparse as sparse

ARRAYS_FILE = "linear_intent_model.npz"
META_FILE = "linear_intent_model.json"


@dataclass
class LinearIntentModel:
    classes: List[str]
    block_names: List[str]  # in column order
    block_widths: List[int]
    weighted_blocks: List[str]  # TF-IDF weighted; the others are used raw
    idf: Dict[str, np.ndarray]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)

    @classmethod
    def fit(
        cls,
        blocks: Mapping[str, sparse.spmatrix],
        labels: Sequence[str],
        weighted_blocks: Sequence[str],
        regularization: float = 10.0,
        max_iter: int = 3000,
    ) -> "LinearIntentModel":
        from sklearn.linear_model import LogisticRegression

        names = sorted(blocks)
        idf = {}
        for name in names:
            if name in weighted_blocks:
                matrix = sparse.csr_matrix(blocks[name])
                document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
                idf[name] = np.log((1 + matrix.shape[0]) / (1 + document_frequency)) + 1.0
        model = cls(
            classes=[],
            block_names=names,
            block_widths=[blocks[name].shape[1] for name in names],
            weighted_blocks=[name for name in names if name in weighted_blocks],
            idf=idf,
            coef=np.zeros((0, 0)),
            intercept=np.zeros(0),
        )
        features = model.transform(blocks)
        classifier = LogisticRegression(C=regularization, max_iter=max_iter, class_weight="balanced")
        classifier.fit(features, list(labels))
        model.classes = [str(label) for label in classifier.classes_]
        model.coef = classifier.coef_
        model.intercept = classifier.intercept_
        if len(model.classes) == 2:  # sklearn keeps one row for two classes
            model.coef = np.vstack([-model.coef[0], model.coef[0]])
            model.intercept = np.array([-model.intercept[0], model.intercept[0]])
        return model

    def transform(self, blocks: Mapping[str, sparse.spmatrix]) -> sparse.csr_matrix:
        rows = next(iter(blocks.values())).shape[0] if blocks else 0
        parts = []
        for name, width in zip(self.block_names, self.block_widths):
            matrix = sparse.csr_matrix(blocks[name], dtype=np.float64) if name in blocks else sparse.csr_matrix((rows, width))
            if matrix.shape[1] != width:
                raise ValueError(f"feature block {name} has {matrix.shape[1]} columns, the model expects {width}")
            if name in self.idf:
                matrix = matrix.copy()
                matrix.data = 1.0 + np.log(np.maximum(matrix.data, 1e-12))
                matrix = matrix.multiply(self.idf[name]).tocsr()
                norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
                norms[norms == 0] = 1.0
                matrix = sparse.diags(1.0 / norms) @ matrix
            parts.append(matrix)
        return sparse.hstack(parts).tocsr()

    def predict_proba(self, blocks: Mapping[str, sparse.spmatrix]) -> np.ndarray:
        scores = self.transform(blocks) @ self.coef.T + self.intercept
        scores = np.asarray(scores)
        scores -= scores.max(axis=1, keepdims=True)
        exponentials = np.exp(scores)
        return exponentials / exponentials.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"coef": self.coef, "intercept": self.intercept}
        arrays.update({f"idf_{index}": self.idf[name] for index, name in enumerate(self.block_names) if name in self.idf})
        np.savez_compressed(directory / ARRAYS_FILE, **arrays)
        meta = {
            "classes": self.classes,
            "block_names": self.block_names,
            "block_widths": self.block_widths,
            "weighted_blocks": self.weighted_blocks,
        }
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "LinearIntentModel":
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            idf = {name: arrays[f"idf_{index}"] for index, name in enumerate(meta["block_names"])
                   if f"idf_{index}" in arrays.files}
            return cls(
                classes=meta["classes"],
                block_names=meta["block_names"],
                block_widths=meta["block_widths"],
                weighted_blocks=meta["weighted_blocks"],
                idf=idf,
                coef=arrays["coef"],
                intercept=arrays["intercept"],
            )
