"""Hidden-state passes: bf16 autocast vs fp32, and precision in the cache key."""

from __future__ import annotations

import numpy as np
import pytest

from taskdiff.difficulty.hidden import HiddenStateCache, compute_states, load_encoder, resolve_hidden_precision

SENTENCES = [["The", "cat", "sat", "on", "the", "mat", "."], ["Dogs", "bark", "."],
             ["She", "has", "been", "reading", "all", "day", "long", "."], ["Why", "?"]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import torch

    from taskdiff.transfer.models import load_tokenizer, resolve_model

    torch.set_num_threads(1)
    path = resolve_model("tiny", tmp_path_factory.mktemp("home"))
    return path, load_tokenizer(path), load_encoder(path)


def _cosines(a, b):
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    keep = (np.linalg.norm(a, axis=1) > 0) & (np.linalg.norm(b, axis=1) > 0)
    a, b = a[keep], b[keep]
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_bf16_states_are_float32_and_close_to_fp32(tiny):
    _, tok, model = tiny
    exact, _, _ = compute_states(model, tok, SENTENCES, words=True, precision="fp32")
    again, _, _ = compute_states(model, tok, SENTENCES, words=True, precision="fp32")
    low, n_batches, _ = compute_states(model, tok, SENTENCES, words=True, precision="bf16")
    for key in ("pooled", "first", "words"):
        np.testing.assert_array_equal(exact[key], again[key])  # fp32 is deterministic: exact comparisons ask for it
        assert low[key].dtype == np.float32 and low[key].shape == exact[key].shape
        assert _cosines(low[key], exact[key]).min() > 0.99, key  # bf16 rounding only
        np.testing.assert_allclose(low[key], exact[key], rtol=0.1, atol=0.1)
    assert not np.array_equal(low["pooled"], exact["pooled"])  # it really ran in bf16
    np.testing.assert_array_equal(low["word_mask"], exact["word_mask"])
    assert n_batches == 1


def test_precision_is_part_of_the_cache_key(tiny, tmp_path):
    from taskdiff.transfer.store import RunStore

    path, _, _ = tiny
    cache = HiddenStateCache(RunStore(tmp_path / "store"))
    kw = dict(words=True, word_pooling="mean", max_length=64)
    fp32 = cache.spec("base:tiny", SENTENCES, precision="fp32", **kw)
    bf16 = cache.spec("base:tiny", SENTENCES, precision="bf16", **kw)
    auto = cache.spec("base:tiny", SENTENCES, **kw)
    assert fp32.run_id != bf16.run_id and fp32.config["precision"] == "fp32"
    assert auto.run_id == {"fp32": fp32, "bf16": bf16}.get(resolve_hidden_precision("auto"), auto).run_id
    a = cache.get(path, "base:tiny", SENTENCES, words=True, max_length=64, precision="fp32")
    b = cache.get(path, "base:tiny", SENTENCES, words=True, max_length=64, precision="bf16")
    assert a.computed and b.computed and (a.precision, b.precision) == ("fp32", "bf16")
    assert a.run_id != b.run_id and cache.forward_batches == 2  # never served from each other
    assert cache.get(path, "base:tiny", SENTENCES, words=True, max_length=64, precision="fp32").computed is False
    with pytest.raises(ValueError, match="precision"):
        HiddenStateCache(precision="fp8")
