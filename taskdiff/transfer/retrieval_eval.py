"""Zero-shot retrieval (BUCC, Tatoeba) straight from an encoder, as XTREME scores them.

Sentences are embedded once per side from one hidden layer with one pooling; the defaults
are XTREME's (:mod:`taskdiff.transfer.metrics.tatoeba`: layer 7 of 12 / 13 of 24 in XTREME's
numbering, i.e. ``hidden_states[8]`` / ``hidden_states[14]``; Tatoeba mean-pools, BUCC uses
the first token). The layer, in both numberings, and the pooling are stored with every score
(``metrics["retrieval"]``). Tatoeba: cosine nearest-neighbour accuracy, English side as
queries as in xtreme. BUCC: candidate pairs by margin scoring over the distinct sentences,
pairs with a repeated sentence dropped (xtreme's ``mine_bitext`` + ``bucc_eval``); the
threshold is tuned on the tuning ids only and applied unchanged to the evaluated ids.
"""

from __future__ import annotations

from taskdiff.transfer.data import MissingDataError
from taskdiff.transfer.evaluation import embed
from taskdiff.transfer.metrics import bucc_f1, bucc_threshold, mine_unique, repeated_sentences, retrieval_setup, tatoeba_accuracy
from taskdiff.transfer.models import load_tokenizer

RETRIEVAL_CONVENTION = "xtreme-v2"
"""Version of the retrieval defaults, part of every retrieval run's cache key: the runs made
with the earlier defaults (``hidden_states[round(L*14/24)]``, mean pooling for BUCC, no
BUCC de-duplication) are not reused for ``layer=None`` / ``pooling=None``."""


def retrieval_run_key(layer: int | None, pooling: str | None) -> dict:
    """The ``extra`` part of a retrieval evaluation's run spec."""
    return {"layer": layer, "pooling": pooling, "convention": RETRIEVAL_CONVENTION}


def _encoder(path: str, trust_remote_code: bool):
    from transformers import AutoModel


    return AutoModel.from_pretrained(path, trust_remote_code=trust_remote_code), load_tokenizer(path, trust_remote_code)


def retrieval_metrics(ws, task, encoder_path: str, language: str, layer: int | None,
                      pooling: str | None) -> dict:
    """Score ``encoder_path`` on one language of a retrieval task.

    ``layer`` is a ``hidden_states`` index (0 = embedding output) or None for XTREME's;
    ``pooling`` ``"mean"``/``"cls"`` or None for XTREME's choice for the task.
    """

    model, tokenizer = _encoder(encoder_path, ws.trust_remote_code)
    setup = retrieval_setup(model.config.num_hidden_layers, layer, pooling, task=task.metric)
    rows = ws.rows(task, "evaluation", language)

    def emb(texts):
        return embed(model, tokenizer, texts, setup["hidden_states_index"], setup["pooling"], task.max_length)

    return score_retrieval(ws, task, language, rows, emb, setup)


def score_retrieval(ws, task, language: str, rows, emb, setup: dict) -> dict:
    """The run's metrics from evaluation ``rows`` and a sentence embedder ``emb(texts)``."""
    if task.metric == "tatoeba":
        scores, extra = _tatoeba(rows.rows, emb), {}
    else:
        scores, extra = _bucc(ws.rows(task, "selection", language).rows, rows.rows, emb)
    return {"scores": scores, "retrieval": {**setup, **extra},
            "n": sum(r["side"] == "source" for r in rows.rows),
            "notes": rows.notes, "split_plan": rows.plan.as_dict()}


def _tatoeba(rows, emb) -> dict:

    src = [r for r in rows if r["side"] == "source"]
    tgt = {r["id"]: r for r in rows if r["side"] == "target"}
    pairs = [(s, tgt[s["gold"]]) for s in src if s["gold"] in tgt]
    if not pairs:
        raise MissingDataError("tatoeba: no aligned pairs to score")
    src_e = emb([s["text"] for s, _ in pairs])
    tgt_e = emb([t["text"] for _, t in pairs])
    return tatoeba_accuracy(tgt_e, src_e)  # English queries, as in xtreme


def _mine(rows, emb, repeated):

    src = [r for r in rows if r["side"] == "source"]
    tgt = [r for r in rows if r["side"] == "target"]
    s_text, t_text = [r["text"] for r in src], [r["text"] for r in tgt]
    cands, counts = mine_unique([r["id"] for r in src], s_text, emb(s_text),
                                [r["id"] for r in tgt], t_text, emb(t_text), repeated=repeated)
    gold = [(r["id"], r["gold"]) for r in src if r["gold"]]
    return cands, gold, counts


def _bucc(tune_rows, eval_rows, emb) -> tuple[dict, dict]:
    """Threshold on the tuning rows, F1 on the evaluated rows; repeats counted over both."""

    both = {r["id"]: r for r in list(tune_rows) + list(eval_rows)}.values()  # the file, when carved
    repeated = tuple(repeated_sentences(r["text"] for r in both if r["side"] == side)
                     for side in ("source", "target"))
    cands, gold, _ = _mine(tune_rows, emb, repeated)
    threshold = bucc_threshold(cands, gold)
    cands, gold, counts = _mine(eval_rows, emb, repeated)
    out = dict(bucc_f1(cands, gold, threshold))
    out["threshold"] = float(threshold)
    dedup = {"dedup": "xtreme: mine distinct sentences, drop pairs with a sentence repeated in its file",
             "source_repeated": len(repeated[0]), "target_repeated": len(repeated[1]),
             "candidates_dropped": counts["candidates_dropped"]}
    return out, dedup
