"""Batched inference and zero-shot scoring per language.

Inference runs under ``torch.inference_mode`` with the largest batch that fits, on
features sorted by length (so padding is minimal), in the run's precision: batches are
bounded by padded tokens (``batch_tokens``), and when a batch runs out of accelerator
memory the budget is halved and the remaining batches are re-planned (down to one
feature per batch), so the same call works on a small GPU and a large one. The same code
serves English model selection during training and zero-shot evaluation afterwards.
"""

from __future__ import annotations

import numpy as np

from taskdiff.transfer.precision import autocast
from taskdiff.transfer.metrics import get_metric
from taskdiff.transfer.metrics.tatoeba import pool


def _batches(order: list[int], features: list[dict], batch_tokens: int, max_batch: int):
    """Consecutive groups of the length-sorted features, bounded by padded tokens."""
    batch: list[int] = []
    longest = 0
    for i in order:
        n = _length(features[i])
        if batch and (max(longest, n) * (len(batch) + 1) > batch_tokens or len(batch) >= max_batch):
            yield batch
            batch, longest = [], 0
        batch.append(i)
        longest = max(longest, n)
    if batch:
        yield batch


def _length(feature: dict) -> int:
    ids = feature["input_ids"]
    return max(len(x) for x in ids) * len(ids) if ids and isinstance(ids[0], list) else len(ids)


def _run_batch(model, fmt, collate, feats, group, device, out) -> None:
    """One forward pass over the features ``group``; outputs written into ``out`` (numpy, padding removed)."""
    batch = collate([{k: v for k, v in feats[i].items() if k not in fmt.target_keys} for i in group])
    batch.pop("example_index", None)
    result = model(**{k: v.to(device) for k, v in batch.items()})
    for key in fmt.output_keys:
        values = result[key].float().cpu().numpy()
        for row, i in enumerate(group):
            n = len(feats[i]["input_ids"])
            out[key][i] = values[row, :n] if values.ndim >= 2 and fmt.per_position_outputs else values[row]


def forward_outputs(model, fmt, tokenizer, encoded, precision: str = "fp32", batch_tokens: int = 16384,
                    max_batch: int = 256, progress: str | None = None) -> dict[str, list]:
    """Run the model over encoded features; per-feature outputs (numpy, padding removed)."""
    import torch
    from tqdm.auto import tqdm

    feats = encoded.features
    order = sorted(range(len(feats)), key=lambda i: _length(feats[i]))
    collate = fmt.collator(tokenizer)
    out: dict[str, list] = {k: [None] * len(feats) for k in fmt.output_keys}
    device = next(model.parameters()).device
    model.eval()
    done = 0
    with torch.inference_mode(), autocast(precision):
        bar = tqdm(total=len(order), desc=progress or "inference", disable=progress is None, leave=False)
        while done < len(order):
            try:
                for group in _batches(order[done:], feats, batch_tokens, max_batch):
                    _run_batch(model, fmt, collate, feats, group, device, out)
                    done += len(group)
                    bar.update(len(group))
            except torch.cuda.OutOfMemoryError:
                if batch_tokens <= 1:
                    raise
                batch_tokens //= 2
                torch.cuda.empty_cache()
        bar.close()
    return out


def predict(model, tokenizer, fmt, rows: list[dict], labels, max_length: int, precision: str = "fp32",
            progress: str | None = None) -> list:
    """Per-row predictions of ``model`` for ``rows``."""
    encoded = fmt.encode(rows, tokenizer, labels, max_length, train=False)
    outputs = forward_outputs(model, fmt, tokenizer, encoded, precision, progress=progress)
    return fmt.decode(outputs, encoded, rows, labels)


def score(metric_name: str, predictions: list, references: list, language: str = "en", **kwargs) -> dict:
    """Scores (0-100) of predictions with the task's official metric."""
    import inspect


    fn = get_metric(metric_name)
    if "language" in inspect.signature(fn).parameters:
        kwargs["language"] = language
    return fn(predictions, references, **kwargs)


def embed(model, tokenizer, texts: list[str], layer: int, pooling: str = "mean", max_length: int = 128,
          precision: str = "fp32") -> np.ndarray:
    """L2-normalised sentence embeddings from hidden layer ``layer`` (0 = embeddings)."""
    import torch


    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    result = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    model.eval()
    step = 64
    with torch.inference_mode(), autocast(precision):
        for s in range(0, len(order), step):
            idx = order[s: s + step]
            batch = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt")
            hidden = model(**batch, output_hidden_states=True).hidden_states[layer].float().numpy()
            result[idx] = pool(hidden, batch["attention_mask"].numpy(), method=pooling)
    norms = np.linalg.norm(result, axis=1, keepdims=True)
    return result / np.maximum(norms, 1e-12)
