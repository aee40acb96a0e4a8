"""Zero-shot retrieval (BUCC, Tatoeba) straight from an encoder, as X-STILTs scores them.

Sentences are embedded once per side from a hidden layer (default: XTREME's choice, layer
14 of 24 scaled to the model's depth) with mean pooling; both are recorded with the score.
Tatoeba: cosine nearest neighbour accuracy, English side as queries as in xtreme. BUCC:
candidate pairs by margin scoring; the threshold is tuned on the tuning ids only and
applied unchanged to the evaluated ids.
"""

from __future__ import annotations

from taskdiff.transfer.data import MissingDataError


def _encoder(path: str, trust_remote_code: bool):
    from transformers import AutoModel

    from taskdiff.transfer.models import load_tokenizer

    return AutoModel.from_pretrained(path, trust_remote_code=trust_remote_code), load_tokenizer(path, trust_remote_code)


def retrieval_metrics(ws, task, encoder_path: str, language: str, layer: int | None, pooling: str) -> dict:
    """Score ``encoder_path`` on one language of a retrieval task."""
    from taskdiff.transfer.evaluation import embed
    from taskdiff.transfer.metrics import retrieval_setup

    model, tokenizer = _encoder(encoder_path, ws.trust_remote_code)
    setup = retrieval_setup(model.config.num_hidden_layers, layer, pooling)
    rows = ws.rows(task, "evaluation", language)

    def emb(texts):
        return embed(model, tokenizer, texts, setup["layer"], setup["pooling"], task.max_length)

    if task.metric == "tatoeba":
        scores = _tatoeba(rows.rows, emb)
    else:
        scores = _bucc(ws, task, language, rows.rows, emb)
    return {"scores": scores, "retrieval": setup, "n": sum(r["side"] == "source" for r in rows.rows),
            "notes": rows.notes, "split_plan": rows.plan.as_dict()}


def _tatoeba(rows, emb) -> dict:
    from taskdiff.transfer.metrics import tatoeba_accuracy

    src = [r for r in rows if r["side"] == "source"]
    tgt = {r["id"]: r for r in rows if r["side"] == "target"}
    pairs = [(s, tgt[s["gold"]]) for s in src if s["gold"] in tgt]
    if not pairs:
        raise MissingDataError("tatoeba: no aligned pairs to score")
    src_e = emb([s["text"] for s, _ in pairs])
    tgt_e = emb([t["text"] for _, t in pairs])
    return tatoeba_accuracy(tgt_e, src_e)  # English queries, as in xtreme


def _mine(rows, emb):
    from taskdiff.transfer.metrics import mine_pairs

    src = [r for r in rows if r["side"] == "source"]
    tgt = [r for r in rows if r["side"] == "target"]
    cands = mine_pairs([r["id"] for r in src], emb([r["text"] for r in src]),
                       [r["id"] for r in tgt], emb([r["text"] for r in tgt]))
    gold = [(r["id"], r["gold"]) for r in src if r["gold"]]
    return cands, gold


def _bucc(ws, task, language, eval_rows, emb) -> dict:
    from taskdiff.transfer.metrics import bucc_f1, bucc_threshold

    tune = ws.rows(task, "selection", language)
    cands, gold = _mine(tune.rows, emb)
    threshold = bucc_threshold(cands, gold)
    cands, gold = _mine(eval_rows, emb)
    out = dict(bucc_f1(cands, gold, threshold))
    out["threshold"] = float(threshold)
    return out
