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
from .tagging import pos, seqeval_f1, token_accuracy
from .tatoeba import (DEFAULT_POOLING, TASK_POOLING, XTREME_LAYERS, default_retrieval_layer,
                      hidden_states_index, pool, retrieval_setup, tatoeba_accuracy, xtreme_layer)

__all__ = [
    "METRICS", "PRIMARY", "MLQA_LANGUAGES", "DEFAULT_POOLING", "TASK_POOLING", "XTREME_LAYERS",
    "MetricInputError",
    "register_metric", "get_metric", "primary_key",
    "accuracy", "seqeval_f1", "pos", "token_accuracy", "squad", "mlqa",
    "normalize_squad", "normalize_mlqa", "mixed_segmentation", "token_f1",
    "l2_normalize", "knn_cosine", "margin_scores", "mine_pairs", "mine_unique", "repeated_sentences",
    "bucc_threshold", "bucc_f1", "pool", "default_retrieval_layer", "hidden_states_index", "xtreme_layer",
    "retrieval_setup", "tatoeba_accuracy",
    "pearson_spearman",
]
