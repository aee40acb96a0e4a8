"""Batched inference: token-bounded batches, and the out-of-memory back-off."""

from __future__ import annotations

import numpy as np
import pytest


def _setup(tmp_path, n=12):
    import torch

    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, load_tokenizer, resolve_model

    torch.manual_seed(0)
    path = resolve_model("tiny", tmp_path)
    tok = load_tokenizer(path)
    fmt = get_format("pair_classification")
    labels = ["entailment", "neutral", "contradiction"]
    words = "the man saw a dog in the park while it rained".split()
    rows = [{"id": str(i), "text_a": " ".join(words[: 2 + i % 9]), "text_b": " ".join(words[i % 5:]),
             "label": labels[i % 3]} for i in range(n)]
    model = build_model(fmt, path, labels)
    return model, fmt, tok, fmt.encode(rows, tok, labels, 64, train=False)


class _OomAbove:
    """Wraps a model; raises CUDA out-of-memory on batches larger than ``limit`` rows."""

    def __init__(self, model, limit: int):
        self.model, self.limit, self.sizes = model, limit, []

    def __call__(self, **batch):
        import torch

        n = batch["input_ids"].shape[0]
        self.sizes.append(n)
        if n > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.model(**batch)

    def parameters(self):
        return self.model.parameters()

    def eval(self):
        self.model.eval()
        return self


def test_out_of_memory_halves_the_batch_and_gives_the_same_outputs(tmp_path):
    from taskdiff.transfer.evaluation import forward_outputs

    model, fmt, tok, enc = _setup(tmp_path)
    ref = forward_outputs(model, fmt, tok, enc)
    wrapped = _OomAbove(model, limit=3)
    got = forward_outputs(wrapped, fmt, tok, enc)
    assert max(wrapped.sizes) > 3  # the first plan was too large and failed ...
    ok = [s for s in wrapped.sizes if s <= 3]
    assert sum(ok) == len(enc.features)  # ... and every feature went through exactly once afterwards
    for a, b in zip(ref["logits"], got["logits"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_single_feature_that_does_not_fit_is_an_error(tmp_path):
    import torch

    from taskdiff.transfer.evaluation import forward_outputs

    model, fmt, tok, enc = _setup(tmp_path, n=3)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        forward_outputs(_OomAbove(model, limit=0), fmt, tok, enc)
