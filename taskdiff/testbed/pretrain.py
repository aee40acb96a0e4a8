"""The testbed encoder: a WordPiece tokenizer and a small BERT pretrained from scratch by MLM.

:func:`ensure_encoder` builds (once) ``<home>/models/testbed-<hash>``: a morpheme-level
WordPiece tokenizer built offline (``tokenizers`` backend, vocabulary from the lexicons:
:func:`tokenizer_vocab`), and a :class:`~transformers.BertForMaskedLM`
trained on it by masked-language modelling; the hash covers everything that determines the
weights (languages, lexicon seed, corpus, architecture, optimisation, code version), so a
changed world gets a new encoder and an unchanged one is reused. The folder is an ordinary
Hugging Face model folder: its path works as a model name everywhere in taskdiff.
:func:`ensure_random_encoder` saves the same architecture and tokenizer with random weights,
the control that tells what pretraining contributed.

The training loop is a plain PyTorch loop rather than ``transformers.Trainer``: the MLM head
runs on the masked positions only (a fraction of the cost of the full-vocabulary softmax at
every position), batches are pre-tokenised, length-bucketed tensors with no collator or
dataset layer, and a run of a few minutes needs no checkpointing (an interrupted build is
discarded by :func:`taskdiff.io.atomic_dir` and restarts). Forward passes use bf16
autocast where the CPU has native bf16 (:func:`taskdiff.transfer.precision.cpu_supports_bf16`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from taskdiff.paths import default_home
from taskdiff.errors import NumericalError
from taskdiff.io import atomic_dir, atomic_write_json
from taskdiff.logs import transformers_errors_only
from taskdiff.testbed import grammar as G
from taskdiff.transfer.evaluation import embed
from taskdiff.transfer.metrics import tatoeba_accuracy
from taskdiff.transfer.metrics.tatoeba import default_retrieval_layer
from taskdiff.transfer.models import load_tokenizer
from taskdiff.transfer.precision import autocast, resolve_precision

log = logging.getLogger(__name__)
ENCODER_VERSION = "1"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class EncoderConfig(BaseModel):
    """Architecture and pretraining budget of the testbed encoder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hidden_size: int = Field(128, ge=16)
    num_layers: int = Field(4, ge=1)
    num_heads: int = Field(4, ge=1)
    intermediate_size: int = Field(512, ge=16)
    max_position: int = Field(128, ge=32)
    max_length: int = Field(64, ge=16, description="pretraining sequence length (longer lines are cut)")
    steps: int = Field(2000, ge=1)
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    warmup_ratio: float = Field(0.06, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    mask_prob: float = Field(0.15, gt=0, lt=1)
    seed: int = 0


# ----------------------------------------------------------------------------- tokenizer
def tokenizer_vocab(lexicons) -> list[str]:
    """A morpheme-level WordPiece vocabulary of the world's languages.

    Word-initial pieces: every stem, function word and anchor of every language, and the
    base language's forms that are not stem + suffix (``saw``, ``carries``); continuation
    pieces (``##x``): every language's suffixes (the base language's ``s``, ``es``, ``d``, ``ed``); then single characters (``x`` and ``##x``)
    so that no word is ever unknown. WordPiece's longest-match-first segmentation then
    splits an inflected form of a generated language into stem + suffixes, so a stem is
    the same token whatever its inflection: a borrowed stem in a code-switched sentence is
    the token of its own language, which is what lets code-switching align languages.
    """
    import string


    words: list[str] = []
    suffixes: list[str] = []
    for lex in lexicons.values():
        words += list(lex.stems.values()) + [w for f in lex.function.values() for w in f.split()] + [lex.placeholder]
        words += [lex.name(n, None) for n in G.NAMES] + [lex.number(d) for d in G.NUMBERS]
        if lex.spec.english_forms:  # forms that stem + suffix pieces cannot spell: irregular pasts, -y verbs
            for v in list(G.INTRANSITIVE) + list(G.TRANSITIVE):
                words += [f for f in (lex.verb(v, lex.stems[v], t, p) for t in G.TENSES for p in (False, True))
                          if not f.startswith(lex.stems[v])]
            suffixes += ["s", "es", "d", "ed"]
        suffixes += [a for a in lex.affixes.values() if a]
    chars = list(string.ascii_letters + string.digits + ".?,")
    vocab = list(SPECIAL_TOKENS)
    seen = set(vocab)
    for tok in words + ["##" + s for s in suffixes] + chars + ["##" + c for c in chars]:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)
    return vocab


def build_tokenizer(lexicons, out_dir: Path):
    """Build the testbed's WordPiece tokenizer (no training: :func:`tokenizer_vocab`) into ``out_dir``."""
    from transformers import BertTokenizerFast

    vocab = tokenizer_vocab(lexicons)
    out_dir.mkdir(parents=True, exist_ok=True)
    # transformers 5 builds the tokenizer from ``vocab`` (a ``vocab_file`` argument is ignored)
    fast = BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=False,
                             tokenize_chinese_chars=False, strip_accents=False)
    fast.model_max_length = 512
    fast.save_pretrained(out_dir)
    return fast


# ----------------------------------------------------------------------------- model
def bert_config(cfg: EncoderConfig, vocab_size: int):
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
                      num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
                      max_position_embeddings=cfg.max_position, type_vocab_size=2)


def _batches(ids: list[list[int]], batch_size: int, rng: np.random.Generator):
    """Endless length-bucketed batches: sort by length, cut, shuffle the batches each epoch."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    while True:
        for k in rng.permutation(len(chunks)):
            yield [ids[i] for i in chunks[k]]


def _mask(batch: list[list[int]], tokenizer, cfg: EncoderConfig, rng: np.random.Generator):
    """Padded input ids, attention mask, masked positions and their targets (BERT's 80/10/10)."""
    import torch

    width = max(len(x) for x in batch)
    ids = np.full((len(batch), width), tokenizer.pad_token_id, dtype=np.int64)
    attn = np.zeros_like(ids)
    for i, x in enumerate(batch):
        ids[i, :len(x)] = x
        attn[i, :len(x)] = 1
    special = np.isin(ids, [tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id])
    chosen = (rng.random(ids.shape) < cfg.mask_prob) & ~special
    if not chosen.any():  # at least one target per batch
        rows, cols = np.nonzero(~special)
        k = int(rng.integers(len(rows)))
        chosen[rows[k], cols[k]] = True
    targets = ids[chosen].copy()
    u = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (u < 0.8)] = tokenizer.mask_token_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    inputs[rand] = rng.integers(len(SPECIAL_TOKENS), len(tokenizer), size=int(rand.sum()))
    return (torch.from_numpy(inputs), torch.from_numpy(attn), torch.from_numpy(chosen), torch.from_numpy(targets))


def pretrain_mlm(lines: list[str], tokenizer, cfg: EncoderConfig, progress: bool = False) -> tuple[object, dict]:
    """Train a ``BertForMaskedLM`` from scratch on ``lines``; returns (model, training log)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import BertForMaskedLM


    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = BertForMaskedLM(bert_config(cfg, len(tokenizer)))
    ids = tokenizer(lines, truncation=True, max_length=cfg.max_length)["input_ids"]
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "LayerNorm" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "LayerNorm" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}],
                            lr=cfg.learning_rate, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, int(cfg.warmup_ratio * cfg.steps))

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (cfg.steps - step) / max(1, cfg.steps - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    precision = resolve_precision("auto")
    batches = _batches(ids, cfg.batch_size, rng)
    losses, start = [], time.perf_counter()
    model.train()
    with tqdm(total=cfg.steps, desc="pretraining the testbed encoder (MLM)", disable=not progress) as bar:
        for step in range(cfg.steps):
            inputs, attn, chosen, targets = _mask(next(batches), tokenizer, cfg, rng)
            with autocast(precision):
                hidden = model.bert(input_ids=inputs, attention_mask=attn).last_hidden_state
                logits = model.cls(hidden[chosen])
            loss = torch.nn.functional.cross_entropy(logits.float(), targets)
            if not torch.isfinite(loss):

                raise NumericalError(f"MLM loss is {loss.item()} at step {step}; lower the learning rate")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.detach().item())
            if step % 50 == 0 or step == cfg.steps - 1:
                bar.set_postfix_str(f"loss {np.mean(losses[-50:]):.2f}")
            bar.update(1)
    model.eval()
    curve = [{"step": s, "loss": float(np.mean(losses[max(0, s - 100):s + 1]))}
             for s in range(0, cfg.steps, max(1, cfg.steps // 20))]
    return model, {"final_loss": float(np.mean(losses[-100:])), "curve": curve,
                   "seconds": round(time.perf_counter() - start, 1), "precision": precision,
                   "lines": len(lines), "tokens": int(sum(len(x) for x in ids))}


# ----------------------------------------------------------------------------- caching
def encoder_dir(home, key: str, random: bool = False) -> Path:
    """``<home>/models/testbed-<key>`` (``-random`` for the random-weights control)."""
    return default_home(home) / "models" / f"testbed-{key}{'-random' if random else ''}"


def ensure_encoder(world, home=None, progress: bool = False) -> Path:
    """The pretrained testbed encoder of ``world`` (built once, then reused from ``home``)."""

    out = encoder_dir(home, world.encoder_key)
    if (out / "config.json").exists() and (out / "testbed.json").exists():
        return out
    with atomic_dir(out) as tmp:
        lines = world.corpus()
        tokenizer = build_tokenizer(world.lexicons, tmp)
        model, info = pretrain_mlm(lines, tokenizer, world.config.encoder, progress)
        model.save_pretrained(tmp)
        atomic_write_json(tmp / "testbed.json", {"world": world.config.model_dump(mode="json"),
                                                 "encoder_key": world.encoder_key, "version": ENCODER_VERSION,
                                                 "pretraining": info, "vocab_size": len(tokenizer)})
    return out


def ensure_random_encoder(world, home=None) -> Path:
    """The random-weights control: the encoder's architecture and tokenizer, weights untrained."""
    import torch
    from transformers import BertForMaskedLM


    trained = ensure_encoder(world, home)
    out = encoder_dir(home, world.encoder_key, random=True)
    if (out / "config.json").exists():
        return out
    with atomic_dir(out) as tmp:
        tokenizer = load_tokenizer(str(trained))
        tokenizer.save_pretrained(tmp)
        torch.manual_seed(world.config.encoder.seed)
        BertForMaskedLM(bert_config(world.config.encoder, len(tokenizer))).save_pretrained(tmp)
    return out


def pretraining_info(path) -> dict:
    """The ``testbed.json`` written next to a pretrained encoder."""
    return json.loads((Path(path) / "testbed.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- alignment
def retrieval_accuracy(model_path, pairs: dict[str, tuple[list[str], list[str]]], layer: int | None = None,
                       max_length: int = 64, center: bool = False) -> dict[str, float]:
    """Tatoeba-style accuracy per language: base-language queries, cosine nearest neighbour.

    ``pairs[lang] = (base sentences, their translations)``; sentences are mean-pooled states
    of ``layer`` (default: XTREME's relative depth, :func:`default_retrieval_layer`).
    ``center=True`` subtracts each side's mean embedding first (removes the language's
    constant offset, as in Libovicky et al. 2020); XTREME's protocol is ``center=False``.
    """
    from transformers import AutoModel

    with transformers_errors_only():  # the MLM head is not loaded: expected
        model = AutoModel.from_pretrained(str(model_path))
    tokenizer = load_tokenizer(str(model_path))
    layer = default_retrieval_layer(model.config.num_hidden_layers) if layer is None else layer
    out = {}
    for lang, (base, other) in pairs.items():
        a = embed(model, tokenizer, base, layer, "mean", max_length)
        b = embed(model, tokenizer, other, layer, "mean", max_length)
        if center:
            a, b = a - a.mean(axis=0), b - b.mean(axis=0)
        out[lang] = float(tatoeba_accuracy(a, b)["accuracy"])
    return out


def chance_accuracy(n: int) -> float:
    """Accuracy of a random nearest neighbour among ``n`` candidates (0-100 scale)."""
    return 100.0 / max(n, 1) if n else math.nan
