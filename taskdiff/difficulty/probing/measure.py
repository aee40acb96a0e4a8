"""``probing``: what training on the task does to the encoder's linguistic knowledge.

Following Pruksachatkun et al. (2020), an encoder trained on the task and the base encoder
are probed with the same linear probes, and the probing scores are compared. The trained
encoder (``encoder``) is by default the budgeted ``difficulty_train`` run that
``baseline_loss``, ``vinfo`` and ``cartography`` share (``"budget"``: one short training
serves them all), or the transfer study's *intermediate* phase (``"intermediate"``: the same
run spec as :func:`taskdiff.transfer.phases.train_spec` ``("intermediate", ...)``, so an
existing transfer run is reused, not retrained).

Probe data: a UD CoNLL-U treebank (default ``<data_dir>/intermediate/ud_english_ewt/
en_ewt-ud-dev.conllu``, the first ``max_sentences`` sentences) turned into the SentEval-style
suite of :func:`~taskdiff.difficulty.probing.build_probe_suite` (syntactic: upos, deprel,
tree_depth, bigram_shift; surface: sentence_length; semantic: tense, subj_number,
obj_number, odd_one_out, coordination_inversion). The suite's sentences are encoded **once
per encoder** (:class:`~taskdiff.difficulty.hidden.HiddenStateCache`: every layer, a
sentence = mean of its real sub-word states, a word = mean (or first) of its sub-words);
every probe at the fitted layers is then fitted from those arrays by
:func:`~taskdiff.difficulty.probing.fit_probe_suite` (held-out accuracy, control-task
selectivity for token-level probes, optionally the MDL online code). Probe fits of the base
encoder are cached in the store too (``probe_fit`` runs), so they are made once for all tasks.

Default cost (see ``docs/difficulty/probing.md``): the probes are fitted at every layer
with control tasks but **without the MDL online code** (``mdl=False``). Measured on
e5-small with 500 EWT sentences (948 suite sentences), the fits of one encoder at its 13
layers took 16 s: plain probes 5 s, control tasks 4 s, MDL 7 s. MDL does not enter the
syntactic / semantic scores (they are accuracy changes; identical with and without it), so
it is off by default (``mdl=True`` adds ``mdl_compression``, which is null otherwise).
Fitting fewer layers (``layers="every_third"``: 0, 3, 6, 9, 12) would save 60 % of the rest
but was not made the default: averaged over 5 instead of 13 layers, the small accuracy
changes of a short training moved ``syntax_semantics_index`` of SNLI from 0.04 to -0.17.

Scores (trained minus base, per probe aggregated over the fitted layers by ``layer_aggregate``:
``"mean"`` of the per-layer values, ``"max"`` best layer vs best layer, ``"last"``):

* ``syntactic`` / ``semantic`` / ``surface``: mean change of probe accuracy over the probes
  of the group;
* ``syntax_semantics_index`` = syn - sem when its bootstrap interval (over probes and test
  sentences) excludes 0, else None with the reason in ``syntax_semantics_note``; the
  difference and interval are in ``syntax_semantics`` (see
  :mod:`~taskdiff.difficulty.probing.summary`);
* ``selectivity``: mean change of selectivity (Hewitt and Liang 2019) over the token-level
  probes; ``mdl_compression``: mean change of the MDL compression ratio (Voita and Titov
  2020) over all probes.

Per-probe values (base, trained, change, per layer) are in ``result_["per_probe"]``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from taskdiff.difficulty.base import ENGLISH, Measure, jsonable
from taskdiff.difficulty.probing.summary import (  # noqa: F401
    GROUPS,
    check_groups,
    check_headroom,
    summarise,
    syntax_semantics_index,
)
from taskdiff.difficulty.registry import register_measure
from taskdiff.errors import ConfigError, UnknownNameError
from taskdiff.schema import format1_features
from taskdiff.difficulty.budget import as_budget, budget_run
from taskdiff.difficulty.hidden import resolve_hidden_precision
from taskdiff.difficulty.maths import DEFAULT_FRACTIONS
from taskdiff.difficulty.probing.probe import fit_probe_suite
from taskdiff.difficulty.probing.suites import ProbeSuite, build_probe_suite, load_sentences
from taskdiff.difficulty.size import count_tokens
from taskdiff.provenance import data_fingerprint
from taskdiff.transfer.models import load_tokenizer
from taskdiff.transfer.phases import run_training, train_spec
from taskdiff.transfer.store import RunSpec
from taskdiff.transfer.training import TrainConfig

log = logging.getLogger(__name__)
DEFAULT_TREEBANK = "intermediate/ud_english_ewt/en_ewt-ud-dev.conllu"
#: Task-trained encoders the measure can probe (see :class:`Probing`).
ENCODERS = ("budget", "intermediate")
FIT_VERSION = 2  # 2: per-example test correctness and sentences (the contrast's bootstrap)
_SUITES: dict = {}


def default_layers(n_layers: int, step: int = 3) -> list[int]:
    """Every ``step``-th hidden layer from 0 (the embeddings) and the last one.

    >>> default_layers(13)
    [0, 3, 6, 9, 12]
    """
    return sorted(set(range(0, n_layers, step)) | {n_layers - 1})


def check_layers(layers) -> None:
    """Raise :class:`ConfigError` for a ``layers`` setting that is neither ints nor a known name."""
    if isinstance(layers, str) and layers not in ("all", "every_third"):
        raise ConfigError(f"layers must be a list of ints, 'all' or 'every_third', found {layers!r}")


def resolve_layers(layers, states) -> list[int]:
    """The fitted layers (non-negative, ascending) of a ``layers`` setting for ``states``."""
    check_layers(layers)
    if layers is None or layers == "all":
        return list(range(states.n_layers))
    if layers == "every_third":
        return default_layers(states.n_layers)
    return sorted({states.layer_number(int(l)) for l in layers})


def load_suite(path: Path, *, max_sentences: int | None, seed: int, min_examples: int):
    """The full probe suite of the first ``max_sentences`` sentences of ``path`` (memoised)."""

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
    layers : list of int or {"all", "every_third"}, optional
        Hidden layers to fit (0 = embeddings; negative counts from the end). Default (None
        or ``"all"``): every layer; ``"every_third"``: layers 0, 3, 6, ... and the last
        (:func:`default_layers`; 5 of 13 layers, noisier layer means).
    max_sentences : int, optional
        First N treebank sentences.
    max_examples : int, optional
        Per probe, a seeded subsample of whole sentences (``fit_probe_suite``).
    min_examples : int
        Probes with fewer examples are dropped.
    word_pooling : {"mean", "first"}
    control, mdl : bool
        Control tasks / selectivity (default on: 0.75x the plain fits) and the MDL online
        code (default off: 1.4x the plain fits; the flat ``mdl_compression`` is then null).
    mdl_fractions : list of float, optional
        Block boundaries (default the paper's).
    test_fraction : float
    layer_aggregate : {"mean", "max", "last"}
        How each probe's per-layer accuracies are aggregated before base and trained are
        compared. ``"last"`` looks where fine-tuning acts most (the top layer).
    groups : dict, optional
        ``{probe: group}`` re-assigning probes to ``syntactic`` / ``semantic`` / ``surface``
        for the group scores (default: the suite's SentEval groups; see
        :mod:`~taskdiff.difficulty.probing.summary`).
    headroom : (float, float), optional
        ``(margin, ceiling)``: only probes whose base accuracy is at least the majority
        baseline + ``margin`` and at most ``ceiling`` enter the group scores (probes at
        ceiling can only fall, probes at chance are noise); default None: every probe.
    batch_size, max_length : int
        Of the hidden-state pass.
    encoder : {"budget", "intermediate"}, optional
        Which task-trained encoder is probed. ``"budget"`` (the default): the budgeted
        ``difficulty_train`` run of ``baseline_loss`` (same ``budget``, so one short
        training serves ``baseline_loss``, ``vinfo``, ``cartography`` and ``probing``).
        ``"intermediate"``: the transfer study's intermediate run (``intermediate_train``),
        as trained for the transfer itself (a full training when the study has not run yet).
        Default: ``"intermediate"`` when ``intermediate_train`` is given, else ``"budget"``.
    budget : Budget or dict, optional
        The budget of the ``"budget"`` encoder (default :class:`~taskdiff.difficulty.budget.Budget`;
        its encoder is always kept).
    intermediate_train : TrainConfig or dict, optional
        Training of the ``"intermediate"`` encoder (default: the transfer default
        ``TrainConfig()``; pass the study's settings, with the same seed and
        ``max_examples``, to reuse its runs).
    precision : {"auto", "fp32", "bf16", "fp16"}
        Of the hidden-state passes (:func:`~taskdiff.difficulty.hidden.resolve_hidden_precision`).
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
        ``group_probes`` (the probes of each group score), ``excluded`` (probes left out by
        ``headroom``, with the reason), ``headroom``,
        ``encoder``, ``encoder_run``, ``reused_encoder``, ``reused_intermediate``,
        ``n_sentences``, ``forward_batches``, ``layers``, ``dropped``.
    results_ : dict
        Encoder ("base", "trained") -> list of per-(probe, layer) result dicts.
    n_forward_batches_ : dict
        Encoder -> forward calls made by this fit (0 when the states were cached).
    """

    name = "probing"
    higher_is_harder = None
    features = format1_features("probing")

    def __init__(self, treebank: str | Path | None = None, language: str = ENGLISH, probes: list[str] | None = None,
                 layers: list[int] | str | None = None, max_sentences: int | None = 500,
                 max_examples: int | None = 2000, min_examples: int = 20, word_pooling: str = "mean",
                 control: bool = True, mdl: bool = False, mdl_fractions: list[float] | None = None,
                 test_fraction: float = 0.25, layer_aggregate: str = "mean", groups: dict | None = None,
                 headroom: tuple[float, float] | None = None, batch_size: int = 32,
                 max_length: int = 512, encoder: str | None = None, budget=None, intermediate_train=None,
                 precision: str = "auto", suite_seed: int = 0, blas_threads: int | None = 1):
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
        self.groups = groups
        self.headroom = headroom
        self.batch_size = batch_size
        self.max_length = max_length
        self.encoder = encoder
        self.budget = budget
        self.intermediate_train = intermediate_train
        self.precision = precision
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

        cfg = self.intermediate_train
        if cfg is None:
            return TrainConfig()
        return cfg if isinstance(cfg, TrainConfig) else TrainConfig(**dict(cfg))

    def encoder_kind(self) -> str:
        """``"budget"`` or ``"intermediate"`` (``encoder`` resolved, see the class docstring)."""
        kind = self.encoder if self.encoder is not None else (
            "budget" if self.intermediate_train is None else "intermediate")
        if kind not in ENCODERS:
            raise ConfigError(f"encoder must be one of {ENCODERS}, found {kind!r}")
        if kind == "budget" and self.intermediate_train is not None:
            raise ConfigError("intermediate_train sets the 'intermediate' encoder; with encoder='budget' "
                              "set the budget instead (or pass encoder='intermediate')")
        return kind

    def probe_budget(self):
        """The budget of the ``"budget"`` encoder, with ``keep_encoder`` on."""

        budget = as_budget(self.budget)
        return budget if budget.keep_encoder else budget.model_copy(update={"keep_encoder": True})

    def spec_params(self):

        params = self.get_params()
        kind = params["encoder"] = self.encoder_kind()
        params["budget"] = self.probe_budget().model_dump(mode="json") if kind == "budget" else None
        params["intermediate_train"] = (self.train_config().model_dump(mode="json") if kind == "intermediate"
                                        else None)
        params["precision"] = resolve_hidden_precision(self.precision)
        params["treebank"] = None if self.treebank is None else str(self.treebank)
        params.pop("blas_threads")  # speed only
        # summary-only settings: absent from the key when unset, so older cache keys stay valid
        for key, canonical in (("groups", dict), ("headroom", list)):
            value = params.pop(key)
            if value is not None:
                params[key] = canonical(value)
        return params

    def cache_key(self, task, context):

        key = super().cache_key(task, context)
        key["treebank"] = data_fingerprint(self.treebank_path(context))
        return key

    def trained_encoder(self, task, model, context, cost) -> tuple[str, str, bool]:
        """``(run id, encoder path, reused)`` of the task-trained encoder of :meth:`encoder_kind`."""
        if self.encoder_kind() == "intermediate":
            return self.intermediate_encoder(task, model, context, cost)

        run = budget_run(task, model, context, self.probe_budget(), inputs="real", cost=cost)
        if run.encoder_path is None:
            raise ConfigError(f"budget run {run.run_id} kept no encoder (remove the run to train it again)")
        return run.run_id, str(run.encoder_path), run.hit

    def intermediate_encoder(self, task, model, context, cost) -> tuple[str, str, bool]:
        """``(run id, encoder path, reused)`` of the task-trained encoder (a transfer run)."""

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

        settings = {"probes": names, "layers": layer_idx, "max_examples": self.max_examples,
                    "control": self.control, "mdl": self.mdl, "mdl_fractions": self.mdl_fractions,
                    "test_fraction": self.test_fraction, "seed": context.seed}
        spec = RunSpec("probe_fit", {"encoder": encoder_id, "hidden": states.run_id, "settings": settings,
                                     "version": FIT_VERSION})

        def run(handle):
            from threadpoolctl import threadpool_limits


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
    def _probe_names(self, full) -> list[str]:
        names = list(full.probes) if self.probes is None else list(self.probes)
        for n in names:
            if n not in full.probes:
                if n in full.dropped:
                    raise ConfigError(f"probe {n!r} was dropped for this treebank: {full.dropped[n]}")
                raise UnknownNameError("probe", n, full.probes)
        return names

    def _fit(self, task, model, context, cost):
        if self.layer_aggregate not in ("mean", "max", "last"):
            raise ConfigError(f"layer_aggregate must be 'mean', 'max' or 'last', found {self.layer_aggregate!r}")
        check_layers(self.layers)
        kind = self.encoder_kind()
        path = self.treebank_path(context)
        full = load_suite(path, max_sentences=self.max_sentences, seed=self.suite_seed, min_examples=self.min_examples)
        names = self._probe_names(full)
        check_groups(self.groups, names)
        check_headroom(self.headroom)
        sub, sent_rows, word_rows = sub_suite(full, names)
        run_id, trained_path, reused = self.trained_encoder(task, model, context, cost)
        encoders = {"base": (f"base:{model}", context.model_path(model)), "trained": (run_id, trained_path)}
        results, batches, layer_idx = {}, {}, None
        for key, (encoder_id, enc_path) in encoders.items():
            states = context.hidden.get(enc_path, encoder_id, full.sentences, words=True,
                                        word_pooling=self.word_pooling, max_length=self.max_length,
                                        batch_size=self.batch_size, progress=context.progress,
                                        trust_remote_code=context.trust_remote_code, cost=cost,
                                        memory=key == "base",  # the base states serve every task
                                        precision=self.precision)
            batches[key] = states.n_batches if states.computed else 0
            if layer_idx is None:
                layer_idx = resolve_layers(self.layers, states)
            results[key] = self._fits(context, encoder_id, states, sub, sent_rows, word_rows, names, layer_idx)
        self.results_ = results
        self.n_forward_batches_ = batches
        self.result_ = summarise(sub, results, layer_idx, self.layer_aggregate, groups=self.groups,
                                 headroom=self.headroom)
        params = self.spec_params()
        self.result_.update(encoder=kind, encoder_run=run_id, reused_encoder=reused,
                            reused_intermediate=reused and kind == "intermediate", treebank=str(path),
                            language=self.language, n_sentences=len(full.sentences),
                            forward_batches=batches, layers=layer_idx, probes=names,
                            dropped={k: str(v) for k, v in full.dropped.items()},
                            budget=params["budget"], intermediate_train=params["intermediate_train"],
                            precision=params["precision"])
