"""Evidence files (photos, short videos) stored under their content hash.

The type is recognised from the bytes (magic numbers), never from the file name the client
sent, so `virus.exe` renamed to `photo.jpg` is refused. Accepted: JPEG, PNG, WebP, HEIC/HEIF
photos and MP4/MOV videos. Each kind has its own size limit. A file is stored once as
`<evidence_dir>/<sha256[:2]>/<sha256>.<ext>`; storing the same bytes again changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, List, Optional

from bot.services.errors import ServiceError

IMAGE = "image"
VIDEO = "video"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEGABYTE = 1024 * 1024

# ISO base media "ftyp" brands: which are still pictures (HEIF family) and which QuickTime
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_QUICKTIME_BRANDS = {b"qt  "}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VH",
    b"M4VP",
    b"mmp4",
    b"dash",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
}


class EvidenceRejected(ServiceError, ValueError):
    """The upload is not an accepted photo/video or too large; the message is Chinese.
    `too_large` tells a file over the size limit from one of a refused type."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class EvidenceLimits:
    max_image_bytes: int = 10 * _MEGABYTE
    max_video_bytes: int = 50 * _MEGABYTE

    @classmethod
    def from_settings(cls, settings) -> "EvidenceLimits":
        return cls(max_image_bytes=settings.max_image_bytes, max_video_bytes=settings.max_video_bytes)

    def for_kind(self, kind: str) -> int:
        return self.max_image_bytes if kind == IMAGE else self.max_video_bytes

    @property
    def largest(self) -> int:
        return max(self.max_image_bytes, self.max_video_bytes)


DEFAULT_LIMITS = EvidenceLimits()


@dataclass(frozen=True)
class DetectedType:
    kind: str
    media_type: str
    extension: str


@dataclass(frozen=True)
class StoredEvidence:
    sha256: str
    kind: str
    media_type: str
    size: int
    extension: str

    @property
    def url(self) -> str:
        return f"/evidence/{self.sha256}.{self.extension}"

    def attachment(self, name: Optional[str] = None) -> dict:
        """The message-metadata entry of one attachment (see actions/evidence.py)."""
        return {
            "type": self.kind,
            "url": self.url,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "name": name or f"{self.sha256[:12]}.{self.extension}",
        }


def detect_type(data: bytes) -> Optional[DetectedType]:
    """The accepted type of `data` judged by its first bytes, or None."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return DetectedType(IMAGE, "image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DetectedType(IMAGE, "image/png", "png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DetectedType(IMAGE, "image/webp", "webp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return DetectedType(IMAGE, "image/heic" if brand.startswith(b"he") else "image/heif", "heic")
        if brand in _QUICKTIME_BRANDS:
            return DetectedType(VIDEO, "video/quicktime", "mov")
        if brand in _MP4_BRANDS:
            return DetectedType(VIDEO, "video/mp4", "mp4")
        return None
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # old QuickTime files without ftyp
        return DetectedType(VIDEO, "video/quicktime", "mov")
    return None


def store_evidence(
    data: bytes,
    *,
    evidence_dir: Path,
    declared_name: Optional[str] = None,
    limits: EvidenceLimits = DEFAULT_LIMITS,
) -> StoredEvidence:
    """Check `data` and store it under its hash; raises `EvidenceRejected` with the reason.

    `declared_name` (the client's file name) is only used in messages, never to decide the type.
    """
    shown = f"「{declared_name}」" if declared_name else "该文件"
    if not data:
        raise EvidenceRejected(f"{shown}是空文件，请重新选择照片或视频。")
    detected = detect_type(data)
    if detected is None:
        raise EvidenceRejected(
            f"{shown}不是支持的照片或视频格式。请上传照片（JPG、PNG、WebP、HEIC）或短视频（MP4、MOV）。"
        )
    limit = limits.for_kind(detected.kind)
    if len(data) > limit:
        what = "照片" if detected.kind == IMAGE else "视频"
        raise EvidenceRejected(
            f"{shown}太大了（{megabytes(len(data))}），{what}最大 {megabytes(limit)}。请压缩或截取后重新上传。",
            too_large=True,
        )
    digest = hashlib.sha256(data).hexdigest()
    stored = StoredEvidence(digest, detected.kind, detected.media_type, len(data), detected.extension)
    target = _path_of(Path(evidence_dir), digest, detected.extension)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # write beside the target and rename: readers never see half a file, and two uploads of
        # the same bytes at once both end with the same complete file
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return stored


# what an agent may send to a buyer: pictures every browser shows (HEIC shows only in Safari)
AGENT_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def store_agent_image(
    data: bytes,
    *,
    evidence_dir: Path,
    declared_name: Optional[str] = None,
    limits: EvidenceLimits = DEFAULT_LIMITS,
) -> StoredEvidence:
    """An image an agent sends to a buyer, checked like the buyers' uploads (type from the
    bytes, the photo size limit) and stored beside them; only JPEG, PNG and WebP."""
    detected = detect_type(data) if data else None
    if data and (detected is None or detected.media_type not in AGENT_IMAGE_TYPES):
        shown = f"「{declared_name}」" if declared_name else "该文件"
        raise EvidenceRejected(
            f"{shown}不能发给买家：只能发送 JPG、PNG 或 WebP 格式的图片（HEIC 照片请先转换成 JPG）。"
        )
    return store_evidence(data, evidence_dir=evidence_dir, declared_name=declared_name, limits=limits)


UPLOADERS_FOLDER = "uploaders"


def record_uploader(evidence_dir: Path, sha256: str, session_id: str) -> None:
    """Remember which chat session uploaded the file: only that session may then name it in a
    message (a file's hash alone is no proof). One line per session, beside the files, so that
    every replica sharing the evidence volume sees it and it survives restarts."""
    digest = str(sha256).strip().lower()
    if not _SHA256.fullmatch(digest):
        raise ValueError(f"不是有效的 sha256：{sha256!r}")
    folder = Path(evidence_dir) / UPLOADERS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if was_uploaded_by(evidence_dir, digest, session_id):
        return
    with open(folder / digest, "a", encoding="utf-8") as record:  # O_APPEND: concurrent lines stay whole
        record.write(f"{session_id}\n")


def was_uploaded_by(evidence_dir: Path, sha256: str, session_id: Optional[str]) -> bool:
    digest = str(sha256).strip().lower()
    if not session_id or not _SHA256.fullmatch(digest):
        return False
    record = Path(evidence_dir) / UPLOADERS_FOLDER / digest
    try:
        return session_id in record.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return False


def open_evidence(evidence_dir: Path, sha256: str) -> Optional[Path]:
    """The stored file of `sha256`, or None (also for anything that is not a sha256 hex digest)."""
    digest = str(sha256).strip().lower()
    if not _SHA256.fullmatch(digest):
        return None
    folder = Path(evidence_dir) / digest[:2]
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.glob(f"{digest}.*")):
        if candidate.is_file():
            return candidate
    return None


def media_type_of(path: Path) -> str:
    """The media type of a stored evidence file, from its content."""
    with Path(path).open("rb") as handle:
        detected = detect_type(handle.read(32))
    return detected.media_type if detected else "application/octet-stream"


def _path_of(evidence_dir: Path, digest: str, extension: str) -> Path:
    return evidence_dir / digest[:2] / f"{digest}.{extension}"


def megabytes(size: int) -> str:
    value = size / _MEGABYTE
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


def stored_attachments(evidence_dir: Path, attachments: Iterable[Any]) -> List[dict]:
    """The attachments of a message that name a file really in the store, described from the
    stored file itself (type, size, media type, URL); the client's name is only cut to length.
    Anything else (a made-up hash, a file never uploaded) is dropped."""
    found = []
    for item in attachments:
        if not isinstance(item, dict):
            continue
        path = open_evidence(evidence_dir, str(item.get("sha256") or ""))
        detected = detect_type(_head_of(path)) if path is not None else None
        if detected is None:
            continue
        stored = StoredEvidence(path.stem, detected.kind, detected.media_type, path.stat().st_size, detected.extension)
        name = Path(str(item.get("name") or "")).name.strip()[:120]
        found.append(stored.attachment(name or None))
    return found


def _head_of(path: Path) -> bytes:
    with path.open("rb") as stored:
        return stored.read(32)
