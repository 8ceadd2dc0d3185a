"""The evidence store: type by content, size limits per kind, content-addressed storage."""

from __future__ import annotations

import hashlib

import pytest

from bot.config import Settings
from bot.services.evidence_store import (
    EvidenceLimits,
    EvidenceRejected,
    detect_type,
    media_type_of,
    open_evidence,
    store_evidence,
)
from tests.web.media import iso_media_bytes, photo_bytes


@pytest.mark.parametrize(
    "data, kind, media_type, extension",
    [
        (photo_bytes("JPEG"), "image", "image/jpeg", "jpg"),
        (photo_bytes("PNG"), "image", "image/png", "png"),
        (photo_bytes("WEBP"), "image", "image/webp", "webp"),
        (iso_media_bytes(b"heic"), "image", "image/heic", "heic"),
        (iso_media_bytes(b"mif1"), "image", "image/heif", "heic"),
        (iso_media_bytes(b"isom"), "video", "video/mp4", "mp4"),
        (iso_media_bytes(b"mp42"), "video", "video/mp4", "mp4"),
        (iso_media_bytes(b"qt  "), "video", "video/quicktime", "mov"),
    ],
)
def test_type_is_recognised_from_content(tmp_path, data, kind, media_type, extension):
    stored = store_evidence(data, evidence_dir=tmp_path, declared_name="whatever.bin")
    assert (stored.kind, stored.media_type, stored.extension, stored.size) == (kind, media_type, extension, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    path = tmp_path / stored.sha256[:2] / f"{stored.sha256}.{extension}"
    assert path.read_bytes() == data
    assert open_evidence(tmp_path, stored.sha256) == path
    assert media_type_of(path) == media_type


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00" + b"\0" * 200,  # a Windows program
        b"%PDF-1.7\n" + b"x" * 100,
        b"<script>alert(1)</script>",
        iso_media_bytes(b"M4A "),  # audio in an MP4 container
        iso_media_bytes(b"avif"),
        b"GIF89a" + b"\0" * 50,
    ],
)
def test_other_content_is_refused_even_with_a_photo_name(tmp_path, data):
    with pytest.raises(EvidenceRejected) as refused:
        store_evidence(data, evidence_dir=tmp_path, declared_name="photo.jpg")
    assert "不是支持的照片或视频格式" in str(refused.value)
    assert "「photo.jpg」" in str(refused.value) and not refused.value.too_large
    assert not any(tmp_path.rglob("*.*"))


def test_empty_upload_is_refused(tmp_path):
    with pytest.raises(EvidenceRejected, match="空文件"):
        store_evidence(b"", evidence_dir=tmp_path)


def test_size_limits_apply_per_kind(tmp_path):
    limits = EvidenceLimits(max_image_bytes=2_000, max_video_bytes=5_000)
    big_photo = photo_bytes("PNG", size=(400, 400))
    assert len(big_photo) > 2_000
    with pytest.raises(EvidenceRejected) as refused:
        store_evidence(big_photo, evidence_dir=tmp_path, declared_name="big.png", limits=limits)
    assert "太大了" in str(refused.value) and "照片最大" in str(refused.value) and refused.value.too_large
    video = iso_media_bytes(b"isom", payload_size=4_000)
    assert store_evidence(video, evidence_dir=tmp_path, limits=limits).kind == "video"
    with pytest.raises(EvidenceRejected, match="视频最大"):
        store_evidence(iso_media_bytes(b"isom", payload_size=6_000), evidence_dir=tmp_path, limits=limits)
    assert not any(tmp_path.rglob("*.png"))


def test_storing_the_same_bytes_twice_is_a_no_op(tmp_path):
    data = photo_bytes("JPEG")
    first = store_evidence(data, evidence_dir=tmp_path, declared_name="a.jpg")
    path = open_evidence(tmp_path, first.sha256)
    modified = path.stat().st_mtime_ns
    second = store_evidence(data, evidence_dir=tmp_path, declared_name="b.jpg")
    assert second == first
    assert path.stat().st_mtime_ns == modified
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [path.name]


def test_attachment_is_the_message_metadata_entry(tmp_path):
    stored = store_evidence(photo_bytes("JPEG"), evidence_dir=tmp_path)
    assert stored.attachment("耳机.jpg") == {
        "type": "image",
        "url": f"/evidence/{stored.sha256}.jpg",
        "sha256": stored.sha256,
        "size": stored.size,
        "media_type": "image/jpeg",
        "name": "耳机.jpg",
    }
    assert stored.attachment()["name"].endswith(".jpg")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "0" * 63, "g" * 64, "", "*"])
def test_open_evidence_only_accepts_hex_digests(tmp_path, bad):
    assert open_evidence(tmp_path, bad) is None


def test_open_evidence_of_unknown_hash_is_none(tmp_path):
    assert open_evidence(tmp_path, "a" * 64) is None


def test_limits_come_from_settings():
    settings = Settings.from_env({"AFTERSALES_MAX_IMAGE_BYTES": "1234", "AFTERSALES_MAX_VIDEO_BYTES": "5678"})
    assert EvidenceLimits.from_settings(settings) == EvidenceLimits(1234, 5678)
    defaults = Settings.from_env({})
    assert (defaults.max_image_bytes, defaults.max_video_bytes) == (10 * 1024 * 1024, 50 * 1024 * 1024)
    with pytest.raises(ValueError, match="AFTERSALES_MAX_IMAGE_BYTES"):
        Settings.from_env({"AFTERSALES_MAX_IMAGE_BYTES": "ten"})


def test_detect_type_needs_only_the_first_bytes():
    assert detect_type(photo_bytes("JPEG")[:16]).media_type == "image/jpeg"
    assert detect_type(b"") is None
