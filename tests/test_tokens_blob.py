import pytest
import zstandard

from ai_session.core import blob, tokens
from ai_session.core.errors import StoreError


def test_count_tokens_uses_cl100k_offline():
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("hello world") == 2
    # Special-token text is ordinary text, never an error.
    assert tokens.count_tokens("<|endoftext|>") > 1


def test_model_map_longest_prefix():
    assert tokens.encoding_for_model("gpt-4o-mini") == "cl100k_base"
    assert tokens.encoding_for_model("claude-sonnet-4") == "cl100k_base"
    assert tokens.encoding_for_model(None) == "cl100k_base"


def test_pack_small_stays_plain_large_is_zstd():
    data, compressed, crc = blob.pack("short")
    assert not compressed and data == b"short" and crc == blob.checksum(b"short")
    text = "line of output\n" * 1000
    data, compressed, crc = blob.pack(text)
    assert compressed and blob.is_zstd(data) and len(data) < len(text) // 10
    params = zstandard.get_frame_parameters(data)
    assert params.has_checksum and params.content_size == len(text)
    assert blob.unpack(data, compressed, crc) == text


def test_frame_claiming_huge_size_is_refused_before_allocation():
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"\0" * 4096)
    with pytest.raises(StoreError, match="claims"):
        blob.decompress(frame, max_output=1024)


def test_bomb_without_declared_size_is_cut_off():
    cctx = zstandard.ZstdCompressor(write_content_size=False)
    bomb = cctx.compress(b"\0" * (8 * 1024 * 1024))
    assert len(bomb) < 2048
    with pytest.raises(StoreError, match="expands past"):
        blob.decompress(bomb, max_output=1024 * 1024)


def test_corrupt_frame_is_a_clear_error():
    with pytest.raises(StoreError, match="corrupt"):
        blob.decompress(b"\x28\xb5\x2f\xfd garbage")
