"""Hidden states of every layer, computed once per (encoder, data) and cached.

One pass of a frozen encoder over a list of segments (texts, text pairs, or pre-split word
lists) keeps, for **every** hidden layer (0 = embeddings ... L = last):

* ``pooled`` (L+1, S, D): the mean of the segment's real token states, special tokens
  ([CLS], [SEP], <s>, </s>) and padding excluded (:func:`~taskdiff.difficulty.maths.mean_pool`);
* ``first`` (L+1, S, D): the state of the first token ([CLS] / <s>);
* ``words`` (L+1, W, D), for word lists only: the state of each word, the mean of its
  sub-word states (``word_pooling="mean"``) or its first sub-word (``"first"``); words cut by
  truncation get zeros and ``word_mask`` False;
* ``n_tokens`` (S,): real (non-special) tokens per segment.

Probing, LogME and task embeddings read these arrays; they never run the encoder
themselves. The states are kept in memory (per process) and on disk in the run store as a
``hidden_states`` run keyed by the encoder's identity (``base:<model>`` or a run id) and the
fingerprint of the segments, so a second probe, layer, or measure costs no forward pass.
Batches are ``batch_size`` segments in order of length, so one pass is
``ceil(S / batch_size)`` forward calls.

Precision: the encoder runs under ``torch.inference_mode()`` and, with ``precision="auto"``
(default), under bf16 autocast where it is native (GPUs, CPUs with AVX512-BF16 / AMX;
:func:`~taskdiff.transfer.precision.resolve_precision`), else in fp32. A bf16 pass was
measured 2-3x faster than fp32 on this project's CPU; its states differ from fp32 ones by
about bf16's rounding (relative 1e-2 per value, cosine > 0.999 per pooled state), far below
the differences the probes and task embeddings measure. The *resolved* precision is part
of the cache key, so fp32 and bf16 states never mix; ask for ``precision="fp32"`` where
exact fp32 states matter. Arrays are float32 whatever the precision of the pass.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taskdiff.difficulty.maths import mean_pool
from taskdiff.logs import transformers_errors_only
from taskdiff.provenance import data_fingerprint
from taskdiff.transfer.models import load_tokenizer
from taskdiff.transfer.precision import autocast, resolve_precision
from taskdiff.transfer.store import RunSpec

log = logging.getLogger(__name__)
HIDDEN_VERSION = 2  # 2: precision in the key (bf16 passes)
STATES_FILE = "states.npz"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_hidden_precision(precision: str = "auto") -> str:
    """The precision a hidden-state pass runs in: ``fp32``, ``bf16`` or ``fp16``.

    ``"auto"`` gives bf16 on GPUs (fp16 on GPUs without bf16) and on CPUs with native bf16
    instructions, else fp32 (:func:`~taskdiff.transfer.precision.resolve_precision`).
    """

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, found {precision!r}")
    return resolve_precision(precision)


class PrecisionMixin:
    """For a :class:`~taskdiff.difficulty.base.Measure` with a hidden-state ``precision``
    setting: its key holds the precision the pass runs in, not ``"auto"``."""

    def spec_params(self) -> dict:
        """The settings, with ``precision`` resolved (:func:`resolve_hidden_precision`)."""
        return {**self.get_params(), "precision": resolve_hidden_precision(self.precision)}


@dataclass
class HiddenStates:
    """Per-layer states of one pass (see the module docstring for the arrays).

    ``layer_ids`` are the hidden layers kept (0 = embeddings ... ``n_total_layers - 1``);
    array axis 0 follows them. ``precision`` is that of the forward pass (arrays are float32).
    """

    encoder: str
    pooled: np.ndarray
    first: np.ndarray
    n_tokens: np.ndarray
    layer_ids: np.ndarray
    n_total_layers: int
    words: np.ndarray | None = None
    word_mask: np.ndarray | None = None
    n_batches: int = 0
    run_id: str | None = None
    computed: bool = True
    precision: str = "fp32"

    @property
    def n_layers(self) -> int:
        """Number of hidden layers of the encoder, embeddings included (L + 1)."""
        return int(self.n_total_layers)

    def layer_number(self, layer: int) -> int:
        """A layer as a non-negative number (``-1`` is the last layer)."""
        n = self.n_total_layers
        if not -n <= layer < n:
            raise IndexError(f"layer {layer} out of range for an encoder with {n} hidden layers (0..{n - 1})")
        return int(layer) % n

    def layer_index(self, layer: int) -> int:
        """Position of ``layer`` along axis 0 of the arrays."""
        number = self.layer_number(layer)
        hits = np.flatnonzero(self.layer_ids == number)
        if hits.size == 0:
            raise IndexError(f"layer {number} was not kept (kept: {self.layer_ids.tolist()})")
        return int(hits[0])

    def layers(self, which: str = "pooled", layers=None) -> dict[int, np.ndarray]:
        """``{layer: array}`` of ``pooled``, ``first`` or ``words`` for the given (or all kept) layers."""
        arr = getattr(self, which)
        if arr is None:
            raise ValueError(f"these states have no {which!r} arrays (encode word lists for word states)")
        numbers = self.layer_ids.tolist() if layers is None else sorted({self.layer_number(int(l)) for l in layers})
        return {n: arr[self.layer_index(n)] for n in numbers}


def load_encoder(path: str, trust_remote_code: bool = False):
    """The bare encoder (``AutoModel``) at ``path``, in eval mode (tests wrap this to count calls)."""
    from transformers import AutoModel

    with transformers_errors_only():  # "unused weights" of a saved head are expected
        model = AutoModel.from_pretrained(path, trust_remote_code=trust_remote_code)
    return model.eval()


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _normalise(segments, words: bool) -> list:
    out = []
    for s in segments:
        if words:
            out.append([str(w) for w in s])
        elif isinstance(s, str):
            out.append(s)
        else:
            a, b = s
            out.append([str(a), str(b)])
    return out


def _tokenize(tokenizer, batch: list, words: bool, max_length: int):
    kw = dict(truncation=True, max_length=max_length, padding=True, return_tensors="pt",
              return_special_tokens_mask=True)
    if words:
        return tokenizer(batch, is_split_into_words=True, **kw)
    if batch and isinstance(batch[0], list):
        return tokenizer([a for a, _ in batch], [b for _, b in batch], **kw)
    return tokenizer(batch, **kw)


def _word_states(hs: np.ndarray, word_ids: list, n_words: int, pooling: str):
    """(L+1, n_words, D) states of one segment's words and which words survived truncation."""
    t = hs.shape[1]
    weights = np.zeros((n_words, t), dtype=np.float32)
    for pos, w in enumerate(word_ids[:t]):
        if w is None or w >= n_words:
            continue
        if pooling == "first" and weights[w].any():
            continue
        weights[w, pos] = 1.0
    present = weights.sum(axis=1) > 0
    weights[present] /= weights[present].sum(axis=1, keepdims=True)
    return np.matmul(weights, hs), present  # (L+1, T, D) with (n_words, T) -> (L+1, n_words, D)


def _length_batches(segments: list, words: bool, batch_size: int) -> list[list[int]]:
    """Segment indices in batches of ``batch_size``, in order of length."""
    def length(s):
        return len(s) if words or isinstance(s, str) else len(s[0]) + len(s[1])

    order = sorted(range(len(segments)), key=lambda i: length(segments[i]))
    return [order[s: s + batch_size] for s in range(0, len(segments), batch_size)]


def _allocate(n_layers: int, n: int, dim: int, n_words: int | None) -> dict:
    """Zeroed float32 output arrays (``words`` / ``word_mask`` when ``n_words`` is given)."""
    arrays = {"pooled": np.zeros((n_layers, n, dim), np.float32), "first": np.zeros((n_layers, n, dim), np.float32),
              "n_tokens": np.zeros(n, dtype=np.int64)}
    if n_words is not None:
        arrays.update(words=np.zeros((n_layers, n_words, dim), np.float32), word_mask=np.zeros(n_words, dtype=bool))
    return arrays


def _store_batch(arrays: dict, hs: np.ndarray, real: np.ndarray, batch: list[int], enc, segments: list,
                 offsets, word_pooling: str) -> None:
    """Pool one batch's (layers, B, T, D) states into ``arrays`` at the batch's positions."""
    for layer in range(hs.shape[0]):  # one layer at a time: mean_pool works in float64
        arrays["pooled"][layer, batch] = mean_pool(hs[layer], real).astype(np.float32)
    arrays["first"][:, batch] = hs[:, :, 0]
    arrays["n_tokens"][batch] = real.sum(axis=1)
    if offsets is None:
        return
    for row, i in enumerate(batch):
        states, present = _word_states(hs[:, row], enc.word_ids(row), len(segments[i]), word_pooling)
        arrays["words"][:, offsets[i]:offsets[i + 1]] = states
        arrays["word_mask"][offsets[i]:offsets[i + 1]] = present


def compute_states(model, tokenizer, segments: list, *, words: bool = False, word_pooling: str = "mean",
                   max_length: int = 512, batch_size: int = 32, progress: str | None = None, layers=None,
                   precision: str = "auto"):
    """Run ``model`` once over ``segments``; returns ``(arrays, n_batches, n_tokens_seen)``.

    ``arrays`` has ``pooled``, ``first``, ``n_tokens``, ``layer_ids``, ``n_total_layers``
    and, for word lists, ``words`` and ``word_mask``, laid out as described in the module
    docstring (float32). ``layers`` keeps only those hidden layers (default all).
    ``precision`` is that of the forward pass (see :func:`resolve_hidden_precision`).
    """
    import torch
    from tqdm.auto import tqdm


    if word_pooling not in ("mean", "first"):
        raise ValueError(f"word_pooling must be 'mean' or 'first', found {word_pooling!r}")
    segments = _normalise(segments, words)
    if not segments:
        raise ValueError("compute_states needs at least one segment")
    batches = _length_batches(segments, words, batch_size)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in segments])]).astype(np.int64) if words else None
    arrays, keep, total, seen = None, None, 0, 0
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode(), autocast(resolve_hidden_precision(precision)):
        for batch in tqdm(batches, desc=progress or "hidden states", disable=progress is None, leave=False):
            enc = _tokenize(tokenizer, [segments[i] for i in batch], words, max_length)
            special = enc.pop("special_tokens_mask").numpy().astype(bool)
            inputs = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
            out = model(**inputs, output_hidden_states=True)
            if keep is None:
                total = len(out.hidden_states)
                keep = list(range(total)) if layers is None else sorted({int(l) % total for l in layers})
            hs = np.stack([out.hidden_states[l].float().cpu().numpy() for l in keep])  # (layers, B, T, D)
            attn = enc["attention_mask"].numpy().astype(bool)
            seen += int(attn.sum())
            if arrays is None:
                arrays = _allocate(hs.shape[0], len(segments), hs.shape[-1], int(offsets[-1]) if words else None)
            _store_batch(arrays, hs, attn & ~special, batch, enc, segments, offsets, word_pooling)
    arrays.update(layer_ids=np.asarray(keep, dtype=np.int64), n_total_layers=np.asarray(total))
    return arrays, len(batches), seen


class HiddenStateCache:
    """Hidden states per (encoder, segments), in memory and in the run store.

    Parameters
    ----------
    store : RunStore, optional
        Where ``hidden_states`` runs are kept on disk (memory only when None).
    precision : {"auto", "fp32", "bf16", "fp16"}
        Default precision of the passes (:func:`resolve_hidden_precision`); a call to
        :meth:`get` may ask for another one.
    """

    def __init__(self, store=None, precision: str = "auto"):
        resolve_hidden_precision(precision)  # fail early on a typo
        self.store = store
        self.precision = precision
        self._memory: dict[str, HiddenStates] = {}
        self._loaded: tuple | None = None  # (path, tokenizer, model) of the last encoder used
        self.forward_batches = 0  # forward calls made by this cache (all encoders)

    def clear_memory(self) -> None:
        """Drop the in-memory copies and the loaded encoder (the store keeps its runs)."""
        self._memory.clear()
        self._loaded = None

    def _encoder(self, path: str, trust_remote_code: bool):
        """Tokenizer and model at ``path``; the last one is kept, so consecutive passes load it once."""

        if self._loaded is None or self._loaded[0] != path:
            self._loaded = None  # free the previous encoder first
            model = load_encoder(path, trust_remote_code)
            model.to(_device())
            self._loaded = (path, load_tokenizer(path, trust_remote_code), model)
        return self._loaded[1], self._loaded[2]

    def spec(self, encoder_id: str, segments: list, *, words: bool, word_pooling: str, max_length: int,
             layers=None, precision: str | None = None):
        """The :class:`~taskdiff.transfer.store.RunSpec` identifying one pass (precision resolved)."""

        return RunSpec("hidden_states", {
            "encoder": encoder_id, "data": data_fingerprint(_normalise(segments, words)), "n": len(segments),
            "words": bool(words), "word_pooling": word_pooling if words else None, "max_length": int(max_length),
            "layers": None if layers is None else sorted(int(l) for l in layers),
            "precision": resolve_hidden_precision(precision or self.precision), "version": HIDDEN_VERSION})

    def get(self, encoder_path: str, encoder_id: str, segments: list, *, words: bool = False,
            word_pooling: str = "mean", max_length: int = 512, batch_size: int = 32, progress: bool = False,
            trust_remote_code: bool = False, cost=None, layers=None, memory: bool = True,
            precision: str | None = None) -> HiddenStates:
        """The states of ``segments`` under the encoder at ``encoder_path``.

        Parameters
        ----------
        encoder_path : str
            Path or hub id to load the encoder from.
        encoder_id : str
            Its identity in cache keys: ``base:<model name>`` or the run id of a trained
            encoder (paths differ between machines, identities do not).
        segments : list
            Texts, ``(text_a, text_b)`` pairs, or (``words=True``) word lists.
        cost : Cost, optional
            Receives the examples and tokens of a pass that is actually run.
        layers : list of int, optional
            Keep only these hidden layers (default all; negative numbers count from the end).
            A different selection is a different cache entry.
        memory : bool
            Keep the states in memory for later calls (the store keeps them anyway).
        precision : {"auto", "fp32", "bf16", "fp16"}, optional
            Of the forward pass (default: the cache's); part of the key once resolved.
        """
        spec = self.spec(encoder_id, segments, words=words, word_pooling=word_pooling, max_length=max_length,
                         layers=layers, precision=precision)
        if spec.run_id in self._memory:
            return dataclasses.replace(self._memory[spec.run_id], computed=False)
        args = dict(words=words, word_pooling=word_pooling, max_length=max_length, batch_size=batch_size,
                    progress=progress, trust_remote_code=trust_remote_code, cost=cost, layers=layers,
                    precision=spec.config["precision"])
        if self.store is None:
            arrays, n_batches = self._compute(encoder_path, encoder_id, segments, **args)[:2]
            states = self._wrap(encoder_id, arrays, n_batches, None, True, args["precision"])
        else:
            computed = []

            def run(handle):
                arrays, n_batches, seconds = self._compute(encoder_path, encoder_id, segments, **args)
                np.savez(handle.file(STATES_FILE), **arrays)
                handle.track(STATES_FILE)
                computed.append(arrays)
                return {"n_batches": n_batches, "n_segments": len(segments), "seconds": round(seconds, 3),
                        "layers": arrays["layer_ids"].tolist(), "hidden_size": int(arrays["pooled"].shape[-1]),
                        "truncated_words": int((~arrays["word_mask"]).sum()) if words else 0,
                        "precision": spec.config["precision"]}

            result = self.store.get_or_run(spec, run)
            if computed:
                arrays = computed[0]
            else:
                with np.load(Path(result.path) / STATES_FILE) as data:
                    arrays = {k: data[k] for k in data.files}
            states = self._wrap(encoder_id, arrays, int(result.metrics["n_batches"]), spec.run_id, not result.hit,
                                args["precision"])
        if memory:
            self._memory[spec.run_id] = states
        return states

    def _compute(self, encoder_path, encoder_id, segments, *, words, word_pooling, max_length, batch_size,
                 progress, trust_remote_code, cost, layers, precision):
        start = time.perf_counter()
        tokenizer, model = self._encoder(str(encoder_path), trust_remote_code)
        limit = getattr(model.config, "max_position_embeddings", max_length)
        max_length = min(max_length, tokenizer.model_max_length or max_length, limit)
        arrays, n_batches, tokens = compute_states(
            model, tokenizer, segments, words=words, word_pooling=word_pooling, max_length=max_length,
            batch_size=batch_size, progress=f"hidden states {encoder_id}" if progress else None, layers=layers,
            precision=precision)
        self.forward_batches += n_batches
        if cost is not None:
            cost.add(len(segments), tokens)
        log.info("hidden states of %d segments under %s (%s): %d batches", len(segments), encoder_id, precision,
                 n_batches)
        return arrays, n_batches, time.perf_counter() - start

    @staticmethod
    def _wrap(encoder_id, arrays, n_batches, run_id, computed, precision) -> HiddenStates:
        return HiddenStates(encoder=encoder_id, pooled=arrays["pooled"], first=arrays["first"],
                            n_tokens=arrays["n_tokens"], layer_ids=np.asarray(arrays["layer_ids"]),
                            n_total_layers=int(arrays["n_total_layers"]), words=arrays.get("words"),
                            word_mask=arrays.get("word_mask"), n_batches=n_batches, run_id=run_id,
                            computed=computed, precision=precision)


def expected_batches(n_segments: int, batch_size: int) -> int:
    """Forward calls of one pass: ``ceil(n_segments / batch_size)``."""
    return math.ceil(n_segments / batch_size)
