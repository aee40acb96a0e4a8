"""An encoder trained on a regression intermediate (STS-B) feeds a classification target.

Regression sets ``problem_type="regression"`` in the model config; if the target model
inherited it, transformers would compute an MSE loss between (batch, n_labels) logits and
(batch,) labels and fail (seen in the real study: pawsx <- stsb).
"""

from __future__ import annotations

import torch

from taskdiff.transfer.formats import get_format
from taskdiff.transfer.models import build_model, load_tokenizer, resolve_model, save_encoder


def test_a_regression_encoder_trains_a_classification_head(tmp_path):
    base = resolve_model("tiny", tmp_path / "store")
    reg = build_model(get_format("regression"), base, None)
    assert reg.config.problem_type == "regression"
    enc = save_encoder(reg, load_tokenizer(base), tmp_path / "enc")
    clf = build_model(get_format("pair_classification"), str(enc), ["0", "1", "2"])
    assert clf.config.problem_type is None
    ids = torch.randint(5, 50, (4, 8))
    out = clf(input_ids=ids, attention_mask=torch.ones_like(ids), labels=torch.tensor([0, 1, 2, 1]))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
