"""The predictor benchmark's world: many intermediate tasks that vary several planted factors at once.

``benchmarks/predictor_testbed.py`` asks whether a gain predictor ranks *held-out*
intermediate tasks well. The demo's seven tasks (one entailment set at six noise levels and
one ambiguity level) are too few and too alike for that. This world has the demo world's
languages, encoder and targets, and :data:`GRID` — 16 intermediate tasks of five kinds
(syntactic: ``pos``, ``agree``, ``depth``; semantic: ``entail``, ``para``) that vary
**label noise** (0 - 0.6), **training-set size** (250 - 1,000), **ambiguity** (0 - 0.5) and
**kind** at the same time, so no single factor orders the tasks.

What is planted, by construction (docs/predictor.md): the targets are ``tbx_nli``
(entailment, XNLI-like) and ``tbx_para`` (paraphrase, PAWS-X-like); an intermediate task
teaches the encoder what its labels carry, so noise and ambiguity lower the gain, a larger
set raises it, and a task of the target's own kind (the same meanings and reasoning) helps
that target more than a task of another kind.

The world's ``seed`` changes the lexicons, the selectional preferences, the corpus, hence the
encoder and every item: two seeds are two independent worlds for the same design. The
benchmark fixes its predictor on :data:`TUNE_SEED` and confirms it on :data:`CONFIRM_SEED`.
"""

from __future__ import annotations

from taskdiff.testbed.tasks import TaskSpec
from taskdiff.testbed.world import WorldConfig

__all__ = ["GRID", "TARGETS", "TUNE_SEED", "CONFIRM_SEED", "predictor_world_config", "smoke_world_config",
           "grid_specs"]

#: World seed the predictor design was fixed on, and the seed that confirms it.
TUNE_SEED, CONFIRM_SEED = 0, 1
#: (name, kind, size, label_noise, ambiguity) of every intermediate task.
GRID = (
    ("tb_entail", "entail", 500, 0.0, 0.0),
    ("pt_entail_s250", "entail", 250, 0.0, 0.0),
    ("pt_entail_s1000_n40", "entail", 1000, 0.4, 0.0),
    ("pt_entail_n20_a30", "entail", 500, 0.2, 0.3),
    ("pt_entail_s250_n60", "entail", 250, 0.6, 0.0),
    ("pt_entail_a50", "entail", 500, 0.0, 0.5),
    ("tb_para", "para", 500, 0.0, 0.0),
    ("pt_para_s1000_n20", "para", 1000, 0.2, 0.0),
    ("pt_para_s250_n40", "para", 250, 0.4, 0.0),
    ("pt_para_n60", "para", 500, 0.6, 0.0),
    ("tb_pos", "pos", 500, 0.0, 0.0),
    ("pt_pos_s1000_n40", "pos", 1000, 0.4, 0.0),
    ("tb_agree", "agree", 500, 0.0, 0.0),
    ("pt_agree_s250_n40", "agree", 250, 0.4, 0.0),
    ("tb_depth", "depth", 500, 0.0, 0.0),
    ("pt_depth_s250_a30", "depth", 250, 0.0, 0.3),
)
TARGETS = ("tbx_nli", "tbx_para")


def grid_specs(grid=GRID, n_validation: int = 100, n_test: int = 200) -> tuple[TaskSpec, ...]:
    """The intermediate :class:`TaskSpec` of every grid row (validation/test sizes as the demo's)."""
    return tuple(TaskSpec(name=name, kind=kind, size=size, label_noise=noise, ambiguity=amb,
                          n_validation=n_validation, n_test=n_test)
                 for name, kind, size, noise, amb in grid)


def _targets(size: int = 100, n_validation: int = 150, n_test: int = 300) -> tuple[TaskSpec, ...]:
    target = dict(role="target", size=size, n_validation=n_validation, n_test=n_test)
    kinds = {"tbx_nli": "entail", "tbx_para": "para"}
    return tuple(TaskSpec(name=t, kind=kinds[t], **target) for t in TARGETS) + (
        TaskSpec(name="tbx_retrieval", kind="retrieval", role="target", n_test=n_test),)


def predictor_world_config(seed: int = TUNE_SEED):
    """The benchmark's world: the demo world's languages and encoder settings, :data:`GRID` and the targets.

    The demo's targets have the same settings (100 training examples), so what an
    intermediate task taught is what the target can use.
    """

    return WorldConfig(seed=seed, intermediates=grid_specs(), targets=_targets())


def smoke_world_config(seed: int = TUNE_SEED, n_tasks: int = 5):
    """A tiny world for the benchmark's smoke test: 2 x 64 encoder, a few small tasks of the grid."""

    rows = [r for r in GRID if r[0] in ("tb_entail", "pt_entail_s250_n60", "tb_para", "tb_pos", "tb_agree",
                                        "pt_para_n60", "tb_depth")][:n_tasks]
    small = tuple(t.model_copy(update={"size": 40 if t.size <= 500 else 60, "n_validation": 16, "n_test": 20})
                  for t in grid_specs(rows))
    targets = tuple(t.model_copy(update={"size": 40, "n_validation": 16, "n_test": 20}) for t in _targets())
    return WorldConfig.small(seed=seed, intermediates=small, targets=targets)
