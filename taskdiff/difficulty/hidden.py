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
``ceil(S / batch_size)`` forward calls. Arrays are float32.
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

log = logging.getLogger(__name__)
HIDDEN_VERSION = 1
STATES_FILE = "states.npz"


@dataclass
class HiddenStates:
    """Per-layer states of one pass (see the module docstring for the arrays).

    ``layer_ids`` are the hidden layers kept (0 = embeddings ... ``n_total_layers - 1``);
    array axis 0 follows them.
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
    import transformers
    from transformers import AutoModel

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # "unused weights" of a saved head are expected
    try:
        model = AutoModel.from_pretrained(path, trust_remote_code=trust_remote_code)
    finally:
        transformers.logging.set_verbosity(verbosity)
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


def compute_states(model, tokenizer, segments: list, *, words: bool = False, word_pooling: str = "mean",
                   max_length: int = 512, batch_size: int = 32, progress: str | None = None, layers=None):
    """Run ``model`` once over ``segments``; returns ``(arrays, n_batches, n_tokens_seen)``.

    ``arrays`` has ``pooled``, ``first``, ``n_tokens``, ``layer_ids``, ``n_total_layers``
    and, for word lists, ``words`` and ``word_mask``, laid out as described in the module
    docstring. ``layers`` keeps only those hidden layers (default all).
    """
    import torch
    from tqdm.auto import tqdm

    if word_pooling not in ("mean", "first"):
        raise ValueError(f"word_pooling must be 'mean' or 'first', found {word_pooling!r}")
    segments = _normalise(segments, words)
    n = len(segments)
    order = sorted(range(n), key=lambda i: len(segments[i]) if words or isinstance(segments[i], str)
                   else len(segments[i][0]) + len(segments[i][1]))
    batches = [order[s: s + batch_size] for s in range(0, n, batch_size)]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in segments])]).astype(np.int64) if words else None
    pooled = first = words_arr = word_mask = keep = None
    total = 0
    n_tok = np.zeros(n, dtype=np.int64)
    seen = 0
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in tqdm(batches, desc=progress or "hidden states", disable=progress is None, leave=False):
            enc = _tokenize(tokenizer, [segments[i] for i in batch], words, max_length)
            special = enc.pop("special_tokens_mask").numpy().astype(bool)
            inputs = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
            out = model(**{k: v.to(device) for k, v in inputs.items()}, output_hidden_states=True)
            if keep is None:
                total = len(out.hidden_states)
                keep = list(range(total)) if layers is None else sorted({int(l) % total for l in layers})
            hs = np.stack([out.hidden_states[l].float().cpu().numpy() for l in keep])  # (layers, B, T, D)
            attn = enc["attention_mask"].numpy().astype(bool)
            real = attn & ~special
            seen += int(attn.sum())
            if pooled is None:
                shape = (hs.shape[0], n, hs.shape[-1])
                pooled, first = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
                if words:
                    words_arr = np.zeros((hs.shape[0], int(offsets[-1]), hs.shape[-1]), np.float32)
                    word_mask = np.zeros(int(offsets[-1]), dtype=bool)
            for layer in range(hs.shape[0]):  # one layer at a time: mean_pool works in float64
                pooled[layer, batch] = mean_pool(hs[layer], real).astype(np.float32)
            first[:, batch] = hs[:, :, 0]
            n_tok[batch] = real.sum(axis=1)
            if words:
                for row, i in enumerate(batch):
                    states, present = _word_states(hs[:, row], enc.word_ids(row), len(segments[i]), word_pooling)
                    lo, hi = offsets[i], offsets[i + 1]
                    words_arr[:, lo:hi] = states
                    word_mask[lo:hi] = present
    if pooled is None:  # no segments
        raise ValueError("compute_states needs at least one segment")
    arrays = {"pooled": pooled, "first": first, "n_tokens": n_tok, "layer_ids": np.asarray(keep, dtype=np.int64),
              "n_total_layers": np.asarray(total)}
    if words:
        arrays.update(words=words_arr, word_mask=word_mask)
    return arrays, len(batches), seen


class HiddenStateCache:
    """Hidden states per (encoder, segments), in memory and in the run store.

    Parameters
    ----------
    store : RunStore, optional
        Where ``hidden_states`` runs are kept on disk (memory only when None).
    """

    def __init__(self, store=None):
        self.store = store
        self._memory: dict[str, HiddenStates] = {}
        self._loaded: tuple | None = None  # (path, tokenizer, model) of the last encoder used
        self.forward_batches = 0  # forward calls made by this cache (all encoders)

    def clear_memory(self) -> None:
        """Drop the in-memory copies and the loaded encoder (the store keeps its runs)."""
        self._memory.clear()
        self._loaded = None

    def _encoder(self, path: str, trust_remote_code: bool):
        """Tokenizer and model at ``path``; the last one is kept, so consecutive passes load it once."""
        from taskdiff.transfer.models import load_tokenizer

        if self._loaded is None or self._loaded[0] != path:
            self._loaded = None  # free the previous encoder first
            model = load_encoder(path, trust_remote_code)
            model.to(_device())
            self._loaded = (path, load_tokenizer(path, trust_remote_code), model)
        return self._loaded[1], self._loaded[2]

    def spec(self, encoder_id: str, segments: list, *, words: bool, word_pooling: str, max_length: int,
             layers=None):
        """The :class:`~taskdiff.transfer.store.RunSpec` identifying one pass."""
        from taskdiff.provenance import data_fingerprint
        from taskdiff.transfer.store import RunSpec

        return RunSpec("hidden_states", {
            "encoder": encoder_id, "data": data_fingerprint(_normalise(segments, words)), "n": len(segments),
            "words": bool(words), "word_pooling": word_pooling if words else None, "max_length": int(max_length),
            "layers": None if layers is None else sorted(int(l) for l in layers), "version": HIDDEN_VERSION})

    def get(self, encoder_path: str, encoder_id: str, segments: list, *, words: bool = False,
            word_pooling: str = "mean", max_length: int = 512, batch_size: int = 32, progress: bool = False,
            trust_remote_code: bool = False, cost=None, layers=None, memory: bool = True) -> HiddenStates:
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
        """
        spec = self.spec(encoder_id, segments, words=words, word_pooling=word_pooling, max_length=max_length,
                         layers=layers)
        if spec.run_id in self._memory:
            return dataclasses.replace(self._memory[spec.run_id], computed=False)
        args = dict(words=words, word_pooling=word_pooling, max_length=max_length, batch_size=batch_size,
                    progress=progress, trust_remote_code=trust_remote_code, cost=cost, layers=layers)
        if self.store is None:
            arrays, n_batches = self._compute(encoder_path, encoder_id, segments, **args)[:2]
            states = self._wrap(encoder_id, arrays, n_batches, None, True)
        else:
            computed = []

            def run(handle):
                arrays, n_batches, seconds = self._compute(encoder_path, encoder_id, segments, **args)
                np.savez(handle.file(STATES_FILE), **arrays)
                handle.track(STATES_FILE)
                computed.append(arrays)
                return {"n_batches": n_batches, "n_segments": len(segments), "seconds": round(seconds, 3),
                        "layers": arrays["layer_ids"].tolist(), "hidden_size": int(arrays["pooled"].shape[-1]),
                        "truncated_words": int((~arrays["word_mask"]).sum()) if words else 0}

            result = self.store.get_or_run(spec, run)
            if computed:
                arrays = computed[0]
            else:
                with np.load(Path(result.path) / STATES_FILE) as data:
                    arrays = {k: data[k] for k in data.files}
            states = self._wrap(encoder_id, arrays, int(result.metrics["n_batches"]), spec.run_id, not result.hit)
        if memory:
            self._memory[spec.run_id] = states
        return states

    def _compute(self, encoder_path, encoder_id, segments, *, words, word_pooling, max_length, batch_size,
                 progress, trust_remote_code, cost, layers):
        start = time.perf_counter()
        tokenizer, model = self._encoder(str(encoder_path), trust_remote_code)
        limit = getattr(model.config, "max_position_embeddings", max_length)
        max_length = min(max_length, tokenizer.model_max_length or max_length, limit)
        arrays, n_batches, tokens = compute_states(
            model, tokenizer, segments, words=words, word_pooling=word_pooling, max_length=max_length,
            batch_size=batch_size, progress=f"hidden states {encoder_id}" if progress else None, layers=layers)
        self.forward_batches += n_batches
        if cost is not None:
            cost.add(len(segments), tokens)
        log.info("hidden states of %d segments under %s: %d batches", len(segments), encoder_id, n_batches)
        return arrays, n_batches, time.perf_counter() - start

    @staticmethod
    def _wrap(encoder_id, arrays, n_batches, run_id, computed) -> HiddenStates:
        return HiddenStates(encoder=encoder_id, pooled=arrays["pooled"], first=arrays["first"],
                            n_tokens=arrays["n_tokens"], layer_ids=np.asarray(arrays["layer_ids"]),
                            n_total_layers=int(arrays["n_total_layers"]), words=arrays.get("words"),
                            word_mask=arrays.get("word_mask"), n_batches=n_batches, run_id=run_id,
                            computed=computed)


def expected_batches(n_segments: int, batch_size: int) -> int:
    """Forward calls of one pass: ``ceil(n_segments / batch_size)``."""
    return math.ceil(n_segments / batch_size)
