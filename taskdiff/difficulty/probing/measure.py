"""``probing``: what training on the task does to the encoder's linguistic knowledge.

Following Pruksachatkun et al. (2020), the encoder trained on the task (the transfer
study's *intermediate* phase: the same run spec as
:func:`taskdiff.transfer.phases.train_spec` ``("intermediate", ...)``, so an existing
transfer run is reused, not retrained) and the base encoder are probed with the same linear
probes, and the probing scores are compared.

Probe data: a UD CoNLL-U treebank (default ``<data_dir>/intermediate/ud_english_ewt/
en_ewt-ud-dev.conllu``, the first ``max_sentences`` sentences) turned into the SentEval-style
suite of :func:`~taskdiff.difficulty.probing.build_probe_suite` (syntactic: upos, deprel,
tree_depth, bigram_shift; surface: sentence_length; semantic: tense, subj_number,
obj_number, odd_one_out, coordination_inversion). The suite's sentences are encoded **once
per encoder** (:class:`~taskdiff.difficulty.hidden.HiddenStateCache`: every layer, a
sentence = mean of its real sub-word states, a word = mean (or first) of its sub-words);
every probe at every layer is then fitted from those arrays by
:func:`~taskdiff.difficulty.probing.fit_probe_suite` (held-out accuracy, control-task
selectivity for token-level probes, MDL online code). Probe fits of the base encoder are
cached in the store too (``probe_fit`` runs), so they are made once for all tasks.

Scores (trained minus base, per probe aggregated over the fitted layers by ``layer_aggregate``:
``"mean"`` of the per-layer values, ``"max"`` best layer vs best layer, ``"last"``):

* ``syntactic`` / ``semantic`` / ``surface``: mean change of probe accuracy over the probes
  of the group;
* ``syntax_semantics_index`` = (syn - sem) / (|syn| + |sem|), in [-1, 1] (0 when both are 0):
  +1 when only syntactic probes gain, -1 when only semantic ones do; with both negative, the
  group that loses less gets the positive side;
* ``selectivity``: mean change of selectivity (Hewitt and Liang 2019) over the token-level
  probes; ``mdl_compression``: mean change of the MDL compression ratio (Voita and Titov
  2020) over all probes.

Per-probe values (base, trained, change, per layer) are in ``result_["per_probe"]``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from taskdiff.difficulty.base import ENGLISH, Measure, finite_or_none, jsonable
from taskdiff.difficulty.registry import register_measure
from taskdiff.errors import ConfigError, UnknownNameError

log = logging.getLogger(__name__)
DEFAULT_TREEBANK = "intermediate/ud_english_ewt/en_ewt-ud-dev.conllu"
FIT_VERSION = 1
GROUPS = ("syntactic", "semantic", "surface")
_SUITES: dict = {}


def syntax_semantics_index(syntactic, semantic):
    """(syn - sem) / (|syn| + |sem|), 0 when both are 0, None when either is missing."""
    if syntactic is None or semantic is None:
        return None
    denom = abs(syntactic) + abs(semantic)
    return 0.0 if denom == 0 else (syntactic - semantic) / denom


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def _aggregate(values, how: str) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return None
    if how == "mean":
        return float(np.mean(vals))
    if how == "max":
        return float(np.max(vals))
    return float(values[-1]) if values[-1] is not None and not math.isnan(values[-1]) else None


def load_suite(path: Path, *, max_sentences: int | None, seed: int, min_examples: int):
    """The full probe suite of the first ``max_sentences`` sentences of ``path`` (memoised)."""
    from taskdiff.difficulty.probing.suites import build_probe_suite, load_sentences

    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, max_sentences, seed, min_examples)
    if key not in _SUITES:
        sentences = load_sentences(path)
        if max_sentences is not None:
            sentences = sentences[:max_sentences]
        _SUITES[key] = build_probe_suite(sentences, seed=seed, min_examples=min_examples)
    return _SUITES[key]


def sub_suite(full, names: list[str]):
    """A suite of some probes of ``full`` and the rows of its sentences / words in ``full``."""
    from taskdiff.difficulty.probing.suites import ProbeSuite

    sub = ProbeSuite.from_probes([full.probes[n] for n in names], full.dropped)
    index = {tuple(s): i for i, s in enumerate(full.sentences)}
    sent_rows = np.array([index[tuple(s)] for s in sub.sentences], dtype=np.int64)
    word_rows = np.concatenate([np.arange(full.word_offsets[j], full.word_offsets[j + 1]) for j in sent_rows]
                               ) if len(sent_rows) else np.zeros(0, np.int64)
    return sub, sent_rows, word_rows.astype(np.int64)


@register_measure
class Probing(Measure):
    """Probing profile of a task: probes on the task-trained encoder vs the base encoder.

    Parameters
    ----------
    treebank : str or Path, optional
        CoNLL-U file of the probe data (default: UD English EWT dev under the data dir).
    language : str
        Language of the treebank (recorded; probing data need not be English).
    probes : list of str, optional
        Probes to fit (default: every probe the treebank supports).
    layers : list of int, optional
        Hidden layers to fit (default: all, 0 = embeddings; negative counts from the end).
    max_sentences : int, optional
        First N treebank sentences.
    max_examples : int, optional
        Per probe, a seeded subsample of whole sentences (``fit_probe_suite``).
    min_examples : int
        Probes with fewer examples are dropped.
    word_pooling : {"mean", "first"}
    control, mdl : bool
        Control tasks / selectivity and the MDL online code.
    mdl_fractions : list of float, optional
        Block boundaries (default the paper's).
    test_fraction : float
    layer_aggregate : {"mean", "max", "last"}
    batch_size, max_length : int
        Of the hidden-state pass.
    intermediate_train : TrainConfig or dict, optional
        Training of the task (default: the transfer default ``TrainConfig()``; pass the
        study's settings, with the same seed and ``max_examples``, to reuse its runs).
    suite_seed : int
        Seed of the perturbation probes.
    blas_threads : int, optional
        BLAS threads while fitting probes (default 1: the probes are small problems, for
        which thread start-up dominates; None leaves the library default).

    Attributes
    ----------
    result_ : dict
        ``syntactic``, ``semantic``, ``surface``, ``syntax_semantics_index``,
        ``selectivity``, ``mdl_compression``, ``per_probe``, ``base``, ``trained``,
        ``encoder_run``, ``reused_intermediate``, ``n_sentences``, ``forward_batches``,
        ``layers``, ``dropped``.
    results_ : dict
        Encoder ("base", "trained") -> list of per-(probe, layer) result dicts.
    n_forward_batches_ : dict
        Encoder -> forward calls made by this fit (0 when the states were cached).
    """

    name = "probing"
    higher_is_harder = None

    def __init__(self, treebank: str | Path | None = None, language: str = ENGLISH, probes: list[str] | None = None,
                 layers: list[int] | None = None, max_sentences: int | None = 500,
                 max_examples: int | None = 2000, min_examples: int = 20, word_pooling: str = "mean",
                 control: bool = True, mdl: bool = True, mdl_fractions: list[float] | None = None,
                 test_fraction: float = 0.25, layer_aggregate: str = "mean", batch_size: int = 32,
                 max_length: int = 512, intermediate_train=None, suite_seed: int = 0, blas_threads: int | None = 1):
        self.treebank = treebank
        self.language = language
        self.probes = probes
        self.layers = layers
        self.max_sentences = max_sentences
        self.max_examples = max_examples
        self.min_examples = min_examples
        self.word_pooling = word_pooling
        self.control = control
        self.mdl = mdl
        self.mdl_fractions = mdl_fractions
        self.test_fraction = test_fraction
        self.layer_aggregate = layer_aggregate
        self.batch_size = batch_size
        self.max_length = max_length
        self.intermediate_train = intermediate_train
        self.suite_seed = suite_seed
        self.blas_threads = blas_threads

    # ------------------------------------------------------------------ pieces
    def treebank_path(self, context) -> Path:
        if self.treebank is not None:
            path = Path(self.treebank)
        elif context.data_dir is not None:
            path = Path(context.data_dir) / DEFAULT_TREEBANK
        else:
            raise ConfigError("probing needs a CoNLL-U treebank: pass treebank=PATH or a data dir with "
                              f"{DEFAULT_TREEBANK}")
        if not path.is_file():
            raise ConfigError(f"probing treebank not found: {path}")
        return path

    def train_config(self):
        from taskdiff.transfer.training import TrainConfig

        cfg = self.intermediate_train
        if cfg is None:
            return TrainConfig()
        return cfg if isinstance(cfg, TrainConfig) else TrainConfig(**dict(cfg))

    def spec_params(self):
        params = self.get_params()
        params["intermediate_train"] = self.train_config().model_dump(mode="json")
        params["treebank"] = None if self.treebank is None else str(self.treebank)
        params.pop("blas_threads")  # speed only
        return params

    def cache_key(self, task, context):
        from taskdiff.provenance import data_fingerprint

        key = super().cache_key(task, context)
        key["treebank"] = data_fingerprint(self.treebank_path(context))
        return key

    def intermediate_encoder(self, task, model, context, cost) -> tuple[str, str, bool]:
        """``(run id, encoder path, reused)`` of the task-trained encoder (a transfer run)."""
        from taskdiff.difficulty.size import count_tokens
        from taskdiff.transfer.models import load_tokenizer
        from taskdiff.transfer.phases import run_training, train_spec

        cfg = self.train_config()
        ws = context.workspace
        spec = train_spec("intermediate", ws, task, f"base:{model}", context.seed, cfg)
        reused = context.store.is_done(spec)
        result = run_training(ws, spec, task, context.model_path(model), cfg, keep="encoder")
        if not result.hit:
            rows = ws.rows(task, "train", task.train_language).rows
            tok = load_tokenizer(context.model_path(model), context.trust_remote_code)
            cost.add(len(rows) * cfg.epochs, int(count_tokens(tok, task.format, rows).sum()) * cfg.epochs)
        return result.run_id, str(Path(result.path) / "encoder"), reused

    def _fits(self, context, encoder_id, states, sub, sent_rows, word_rows, names, layer_idx) -> list[dict]:
        """Probe results of one encoder (a cached ``probe_fit`` run)."""
        from taskdiff.difficulty.probing.probe import fit_probe_suite
        from taskdiff.transfer.store import RunSpec

        settings = {"probes": names, "layers": layer_idx, "max_examples": self.max_examples,
                    "control": self.control, "mdl": self.mdl, "mdl_fractions": self.mdl_fractions,
                    "test_fraction": self.test_fraction, "seed": context.seed}
        spec = RunSpec("probe_fit", {"encoder": encoder_id, "hidden": states.run_id, "settings": settings,
                                     "version": FIT_VERSION})

        def run(handle):
            from threadpoolctl import threadpool_limits

            from taskdiff.difficulty.maths import DEFAULT_FRACTIONS

            sent = {l: states.pooled[states.layer_index(l)][sent_rows] for l in layer_idx}
            token = any(p.level == "token" for p in sub.probes.values())
            words = {l: states.words[states.layer_index(l)][word_rows] for l in layer_idx} if token else None
            with threadpool_limits(limits=self.blas_threads):
                results = fit_probe_suite(sent, sub, words, test_fraction=self.test_fraction, seed=context.seed,
                                          control=self.control, mdl=self.mdl,
                                          mdl_fractions=tuple(self.mdl_fractions or DEFAULT_FRACTIONS),
                                          max_examples=self.max_examples)
            return {"results": jsonable([r.as_dict() for r in results])}

        if states.run_id is None:  # no store: fit directly
            return run(None)["results"]
        return context.store.get_or_run(spec, run).metrics["results"]

    # ------------------------------------------------------------------ fit
    def _fit(self, task, model, context, cost):
        if self.layer_aggregate not in ("mean", "max", "last"):
            raise ConfigError(f"layer_aggregate must be 'mean', 'max' or 'last', found {self.layer_aggregate!r}")
        path = self.treebank_path(context)
        full = load_suite(path, max_sentences=self.max_sentences, seed=self.suite_seed, min_examples=self.min_examples)
        names = list(full.probes) if self.probes is None else list(self.probes)
        for n in names:
            if n not in full.probes:
                if n in full.dropped:
                    raise ConfigError(f"probe {n!r} was dropped for this treebank: {full.dropped[n]}")
                raise UnknownNameError("probe", n, full.probes)
        sub, sent_rows, word_rows = sub_suite(full, names)
        run_id, trained_path, reused = self.intermediate_encoder(task, model, context, cost)
        encoders = {"base": (f"base:{model}", context.model_path(model)), "trained": (run_id, trained_path)}
        results, batches, layer_idx = {}, {}, None
        for key, (encoder_id, enc_path) in encoders.items():
            states = context.hidden.get(enc_path, encoder_id, full.sentences, words=True,
                                        word_pooling=self.word_pooling, max_length=self.max_length,
                                        batch_size=self.batch_size, progress=context.progress,
                                        trust_remote_code=context.trust_remote_code, cost=cost,
                                        memory=key == "base")  # the base states serve every task
            batches[key] = states.n_batches if states.computed else 0
            if layer_idx is None:
                layer_idx = (list(range(states.n_layers)) if self.layers is None
                             else sorted({states.layer_number(int(l)) for l in self.layers}))
            results[key] = self._fits(context, encoder_id, states, sub, sent_rows, word_rows, names, layer_idx)
        self.results_ = results
        self.n_forward_batches_ = batches
        self.result_ = self._summarise(sub, results, layer_idx)
        self.result_.update(encoder_run=run_id, reused_intermediate=reused, treebank=str(path),
                            language=self.language, n_sentences=len(full.sentences),
                            forward_batches=batches, layers=layer_idx, probes=names,
                            dropped={k: str(v) for k, v in full.dropped.items()},
                            intermediate_train=self.train_config().model_dump(mode="json"))

    def _summarise(self, suite, results: dict, layers: list[int]) -> dict:
        per_probe = {}
        for name, probe in suite.probes.items():
            entry = {"group": probe.group, "level": probe.level, "per_layer": []}
            values = {}
            for key in ("base", "trained"):
                rows = {r["layer"]: r for r in results[key] if r["probe"] == name}
                for metric in ("accuracy", "selectivity", "mdl_compression"):
                    seq = [rows[l].get(metric) if l in rows else None for l in layers]
                    seq = [float("nan") if v is None else float(v) for v in seq]
                    values[(key, metric)] = _aggregate(seq, self.layer_aggregate)
                entry[key] = {m: values[(key, m)] for m in ("accuracy", "selectivity", "mdl_compression")}
                entry[key]["majority_accuracy"] = next((r["majority_accuracy"] for r in rows.values()), None)
            entry["delta"] = {m: (values[("trained", m)] - values[("base", m)]
                                  if values[("trained", m)] is not None and values[("base", m)] is not None else None)
                              for m in ("accuracy", "selectivity", "mdl_compression")}
            base_rows = {r["layer"]: r for r in results["base"] if r["probe"] == name}
            trained_rows = {r["layer"]: r for r in results["trained"] if r["probe"] == name}
            for l in layers:
                b, t = base_rows.get(l, {}), trained_rows.get(l, {})
                entry["per_layer"].append({"layer": l, **{f"{m}_{k}": finite_or_none(r.get(m))
                                                          for k, r in (("base", b), ("trained", t))
                                                          for m in ("accuracy", "selectivity", "mdl_compression")}})
            per_probe[name] = entry
        group = {g: _mean(e["delta"]["accuracy"] for e in per_probe.values() if e["group"] == g) for g in GROUPS}
        summary = {
            "syntactic": group["syntactic"], "semantic": group["semantic"], "surface": group["surface"],
            "syntax_semantics_index": syntax_semantics_index(group["syntactic"], group["semantic"]),
            "selectivity": _mean(e["delta"]["selectivity"] for e in per_probe.values()),
            "mdl_compression": _mean(e["delta"]["mdl_compression"] for e in per_probe.values()),
            "layer_aggregate": self.layer_aggregate,
        }
        for key in ("base", "trained"):
            summary[key] = {
                **{f"{g}_accuracy": _mean(e[key]["accuracy"] for e in per_probe.values() if e["group"] == g)
                   for g in GROUPS},
                "selectivity": _mean(e[key]["selectivity"] for e in per_probe.values()),
                "mdl_compression": _mean(e[key]["mdl_compression"] for e in per_probe.values()),
            }
        summary["per_probe"] = jsonable(per_probe)
        return jsonable(summary)

    @staticmethod
    def flat(result):
        return {"probing": {k: result.get(k) for k in
                            ("syntactic", "semantic", "syntax_semantics_index", "selectivity", "mdl_compression")}}
