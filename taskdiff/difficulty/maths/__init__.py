"""Pure numpy maths of the difficulty measures (no torch; arrays in, numbers out).

========================  ===================================================================
module                    concept
========================  ===================================================================
:mod:`.cartography`       training dynamics: confidence, variability, regions (data maps)
:mod:`.information`       label entropy, PVI and V-usable information (bits)
:mod:`.logme`             LogME, the maximum evidence of a Bayesian linear model
:mod:`.mdl`               MDL online code of a probe (Voita and Titov 2020)
:mod:`.probing`           control tasks and selectivity (Hewitt and Liang 2019)
:mod:`.similarity`        mean pooling and cosine similarity of embeddings
========================  ===================================================================
"""

from taskdiff.difficulty.maths.cartography import (
    AMBIGUOUS,
    EASY,
    HARD,
    REGIONS,
    DynamicsMetrics,
    assign_regions,
    cartography_summary,
    confidence,
    correctness,
    dynamics_from_logits,
    dynamics_metrics,
    forgetfulness,
    gold_prob_classification,
    gold_prob_multiple_choice,
    gold_prob_qa,
    gold_prob_tagging,
    softmax,
    variability,
)
from taskdiff.difficulty.maths.information import (
    label_distribution,
    label_entropy,
    prior_gold_probs,
    pvi,
    v_entropy,
    v_information,
)
from taskdiff.difficulty.maths.logme import log_evidence, logme, logme_fit, logme_regression
from taskdiff.difficulty.maths.mdl import (
    DEFAULT_FRACTIONS,
    MDLResult,
    codelength_bits,
    compression,
    mdl_online_code,
    online_code_blocks,
    online_codelength,
    uniform_codelength,
)
from taskdiff.difficulty.maths.probing import (
    accuracy,
    chance_accuracy,
    control_task_labels,
    majority_accuracy,
    selectivity,
)
from taskdiff.difficulty.maths.similarity import (
    cosine_similarity,
    dataset_embedding,
    mean_pool,
    mean_pooled_similarity,
    pairwise_cosine,
)

__all__ = [
    "AMBIGUOUS", "EASY", "HARD", "REGIONS", "DynamicsMetrics",
    "assign_regions", "cartography_summary", "confidence", "correctness",
    "dynamics_from_logits", "dynamics_metrics", "forgetfulness", "gold_prob_classification",
    "gold_prob_multiple_choice", "gold_prob_qa", "gold_prob_tagging", "softmax", "variability",
    "label_distribution", "label_entropy", "prior_gold_probs", "pvi", "v_entropy",
    "v_information",
    "log_evidence", "logme", "logme_fit", "logme_regression",
    "DEFAULT_FRACTIONS", "MDLResult", "codelength_bits", "compression", "mdl_online_code",
    "online_code_blocks", "online_codelength", "uniform_codelength",
    "accuracy", "chance_accuracy", "control_task_labels", "majority_accuracy", "selectivity",
    "cosine_similarity", "dataset_embedding", "mean_pool", "mean_pooled_similarity",
    "pairwise_cosine",
]
