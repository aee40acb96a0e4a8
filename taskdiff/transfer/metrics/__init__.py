"""Official zero-shot evaluation metrics of XTREME, behind a small registry.

Every metric returns ``dict[str, float]`` on the 0-100 scale; :data:`PRIMARY` names each
metric's headline key.

==============  =========================  ==========================================  =========
name            function                   keys                                        primary
==============  =========================  ==========================================  =========
``accuracy``    :func:`accuracy`           accuracy                                    accuracy
``seqeval_f1``  :func:`seqeval_f1`         precision, recall, f1                       f1
``pos``         :func:`pos`                f1, token_accuracy                          f1
``squad``       :func:`squad`              exact_match, f1                             f1
``mlqa``        :func:`mlqa`               exact_match, f1                             f1
``bucc``        :func:`bucc_f1`            precision, recall, f1                       f1
``tatoeba``     :func:`tatoeba_accuracy`   accuracy                                    accuracy
``pearson``     :func:`pearson_spearman`   pearson, spearman (x 100), mse              pearson
==============  =========================  ==========================================  =========
"""

from __future__ import annotations

from ._checks import MetricInputError
from .bucc import (bucc_f1, bucc_threshold, knn_cosine, l2_normalize, margin_scores, mine_pairs,
                   mine_unique, repeated_sentences)
from .classification import accuracy
from .qa import (MLQA_LANGUAGES, mixed_segmentation, mlqa, normalize_mlqa, normalize_squad,
                 squad, token_f1)
from .regression import pearson_spearman
from .registry import METRICS, PRIMARY, get_metric, primary_key, register_metric
from .tagging import METRIC_PROVENANCE, SEQEVAL_XTREME, pos, seqeval_f1, token_accuracy
from .tatoeba import (DEFAULT_POOLING, TASK_POOLING, XTREME_LAYERS, default_retrieval_layer,
                      hidden_states_index, pool, retrieval_setup, tatoeba_accuracy, xtreme_layer)

__all__ = [
    "METRICS", "PRIMARY", "METRIC_PROVENANCE", "SEQEVAL_XTREME", "metric_provenance", "metric_run_key", "MLQA_LANGUAGES", "DEFAULT_POOLING", "TASK_POOLING", "XTREME_LAYERS",
    "MetricInputError",
    "register_metric", "get_metric", "primary_key",
    "accuracy", "seqeval_f1", "pos", "token_accuracy", "squad", "mlqa",
    "normalize_squad", "normalize_mlqa", "mixed_segmentation", "token_f1",
    "l2_normalize", "knn_cosine", "margin_scores", "mine_pairs", "mine_unique", "repeated_sentences",
    "bucc_threshold", "bucc_f1", "pool", "default_retrieval_layer", "hidden_states_index", "xtreme_layer",
    "retrieval_setup", "tatoeba_accuracy",
    "pearson_spearman",
]


def metric_provenance(name: str) -> dict:
    """How each key of metric ``name`` was computed (e.g. the seqeval chunking), or ``{}``."""
    return dict(METRIC_PROVENANCE.get(name, {}))


def metric_run_key(name: str) -> dict:
    """Part of an evaluation run's cache key: the version of a metric whose numbers changed.

    Only ``pos`` has one (its F1 moved from seqeval 1.x's chunking to 0.0.12's), so cached
    POS evaluations from before are not reused; every other metric's runs keep their keys.
    """
    return {"metric_version": f"seqeval-{SEQEVAL_XTREME}"} if name == "pos" else {}
