"""A testbed *world*: languages, corpus, encoder and tasks, built once from one config and seed.

``World(config, home).build()`` writes ``<home>/testbed/world-<key>/``::

    world.json                  the config, its key, lexicons, task summaries
    <task>.yaml                 one task file per task (``taskdiff ... --task-file``)
    data/intermediate/<task>/   base-language intermediate tasks (CoNLL-U, JSONL, SQuAD JSON)
    data/target/<task>/         target tasks: base-language train/dev, test in every language
    probing/<lang>.conllu       a treebank per language (for the probing measure)

and :meth:`World.register` registers every task (``local: {layout: files}``, ``base_dir`` =
the world directory), so every taskdiff command and function works on them by name.
:meth:`World.encoder` pretrains (or reuses) the encoder in ``<home>/models/testbed-<hash>``.
Everything is a pure function of the config: the same config gives byte-identical files.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskdiff.paths import default_home
from taskdiff.provenance import config_hash
from taskdiff.testbed import grammar as G
from taskdiff.testbed.corpus import CorpusConfig, corpus_lines
from taskdiff.testbed.languages import DEFAULT_LANGUAGES, LanguageSpec, Lexicon, Realizer, make_lexicons
from taskdiff.testbed.pretrain import EncoderConfig
from taskdiff.testbed.tasks import TaskSpec, generate_task, task_config
from taskdiff.errors import UnknownNameError
from taskdiff.io import atomic_dir, atomic_write_json, dumps_json
from taskdiff.testbed.pretrain import ENCODER_VERSION, chance_accuracy, encoder_dir, ensure_encoder, ensure_random_encoder, retrieval_accuracy
from taskdiff.testbed.probes import balanced_keep, probe_comments, probe_meanings, token_key, token_misc, token_probe_labels
from taskdiff.testbed.tasks import _conllu
from taskdiff.transfer.tasks import register_task_file

WORLD_VERSION = "1"
#: Version of the probing treebanks' content (2: token-level probes); in the world's key, not
#: in the encoder's, so a change rebuilds the world's files but reuses its encoder.
TREEBANK_VERSION = "2"

#: The default intermediate tasks: every kind clean, plus noise ladders of entailment and POS.
DEFAULT_INTERMEDIATES = (
    TaskSpec(name="tb_pos", kind="pos"),
    TaskSpec(name="tb_agree", kind="agree"),
    TaskSpec(name="tb_depth", kind="depth"),
    TaskSpec(name="tb_entail", kind="entail"),
    TaskSpec(name="tb_para", kind="para"),
    TaskSpec(name="tb_qa", kind="qa", size=600),
    TaskSpec(name="tb_mc", kind="mc", size=600),
    TaskSpec(name="tb_entail_n20", kind="entail", label_noise=0.2),
    TaskSpec(name="tb_entail_n40", kind="entail", label_noise=0.4),
    TaskSpec(name="tb_entail_n60", kind="entail", label_noise=0.6),
    TaskSpec(name="tb_entail_a40", kind="entail", ambiguity=0.4),
    TaskSpec(name="tb_pos_n20", kind="pos", label_noise=0.2),
    TaskSpec(name="tb_pos_n40", kind="pos", label_noise=0.4),
)
#: The default targets, one per XTREME format family.
DEFAULT_TARGETS = (
    TaskSpec(name="tbx_nli", kind="entail", role="target", size=300),
    TaskSpec(name="tbx_para", kind="para", role="target", size=300),
    TaskSpec(name="tbx_pos", kind="pos", role="target", size=200),
    TaskSpec(name="tbx_qa", kind="qa", role="target", size=300),
    TaskSpec(name="tbx_retrieval", kind="retrieval", role="target", n_test=300),
)


class WorldConfig(BaseModel):
    """Everything that determines a world (and its encoder)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 0
    base: str = "en"
    languages: tuple[LanguageSpec, ...] = DEFAULT_LANGUAGES
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    intermediates: tuple[TaskSpec, ...] = DEFAULT_INTERMEDIATES
    targets: tuple[TaskSpec, ...] = DEFAULT_TARGETS
    n_treebank: int = Field(4000, ge=10, description="sentences per language of the probing treebanks")
    treebank_probes: bool = Field(True, description="write the testbed's own probes (meaning-derived "
                                  "'# probe.<name>.<group>' comments, taskdiff.testbed.probes) in the treebanks "
                                  "and sample their meanings for them")
    concentration: float = Field(0.1, gt=0, description="Dirichlet concentration of the selectional "
                                 "preferences (small: peaked, words distinguishable by their contexts)")

    @model_validator(mode="after")
    def _check(self) -> "WorldConfig":
        codes = [l.code for l in self.languages]
        if len(set(codes)) != len(codes):
            raise ValueError(f"language codes must be unique, found {codes}")
        if self.base not in codes:
            raise ValueError(f"base language {self.base!r} is not among {codes}")
        names = [t.name for t in self.intermediates + self.targets]
        if len(set(names)) != len(names):
            raise ValueError("task names must be unique")
        for t in self.intermediates:
            if t.role != "intermediate":
                raise ValueError(f"task {t.name!r} is listed as an intermediate but has role {t.role!r}")
        for t in self.targets:
            if t.role != "target":
                raise ValueError(f"task {t.name!r} is listed as a target but has role {t.role!r}")
        return self

    @classmethod
    def small(cls, **overrides) -> "WorldConfig":
        """A world for fast tests: small corpus, a 2 x 64 encoder, small tasks."""
        small_tasks = tuple(t.model_copy(update={"size": 60, "n_validation": 20, "n_test": 30})
                            for t in DEFAULT_INTERMEDIATES[:7])
        targets = tuple(t.model_copy(update={"size": 60, "n_validation": 20, "n_test": 30}) for t in DEFAULT_TARGETS)
        values = dict(corpus=CorpusConfig(sentences_per_language=600),
                      encoder=EncoderConfig(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128,
                                            steps=60, batch_size=32),
                      intermediates=small_tasks, targets=targets, n_treebank=40)
        values.update(overrides)
        return cls(**values)

    @property
    def key(self) -> str:
        """Hash of the whole config (the world directory's name)."""
        return config_hash({"config": self.model_dump(mode="json"), "version": WORLD_VERSION,
                            "treebank": TREEBANK_VERSION})[:16]

    @property
    def encoder_key(self) -> str:
        """Hash of what determines the encoder (not the tasks)."""

        part = self.model_dump(mode="json", include={"seed", "languages", "corpus", "encoder", "concentration"})
        return config_hash({"encoder": part, "version": ENCODER_VERSION, "world": WORLD_VERSION})[:16]


class World:
    """A built (or to-be-built) testbed world under ``home`` (the run store root)."""

    def __init__(self, config: WorldConfig | None = None, home=None):
        self.config = config or WorldConfig()
        self.home = default_home(home)

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> str:
        return self.config.key

    @property
    def encoder_key(self) -> str:
        return self.config.encoder_key

    @property
    def path(self) -> Path:
        return self.home / "testbed" / f"world-{self.key}"

    @property
    def base(self) -> str:
        return self.config.base

    @property
    def codes(self) -> list[str]:
        """Language codes, the base first."""
        return [self.base] + [l.code for l in self.config.languages if l.code != self.base]

    @cached_property
    def lexicons(self) -> dict[str, Lexicon]:
        ordered = sorted(self.config.languages, key=lambda l: l.code != self.base)
        return make_lexicons(ordered, self.config.seed)

    @cached_property
    def sampler(self) -> G.SamplerConfig:
        """The meaning generator with the world's selectional preferences."""
        return G.SamplerConfig(prefs=G.make_preferences(self.config.seed, self.config.concentration))

    @property
    def tasks(self) -> list[TaskSpec]:
        return list(self.config.intermediates) + list(self.config.targets)

    @property
    def intermediate_names(self) -> list[str]:
        return [t.name for t in self.config.intermediates]

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.config.targets]

    def spec(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t

        raise UnknownNameError("testbed task", name, [t.name for t in self.tasks])

    # ------------------------------------------------------------------ building
    def corpus(self) -> list[str]:
        """The pretraining corpus (regenerated deterministically; not stored)."""
        return corpus_lines(self.lexicons, self.config.corpus, self.config.seed, self.sampler)

    def is_built(self) -> bool:
        return (self.path / "world.json").exists()

    def build(self) -> "World":
        """Write the world's files (once; a built world is reused) and register its tasks."""

        if not self.is_built():
            with atomic_dir(self.path) as tmp:
                self._write(tmp)
        return self.register()

    def _write(self, root: Path) -> None:
        import yaml


        summaries = []
        for spec in self.tasks:
            folder = Path("data") / ("intermediate" if spec.role == "intermediate" else "target") / spec.name
            summaries.append(generate_task(spec, self.lexicons, self.base, self.config.seed, root / folder,
                                           self.sampler))
            cfg = task_config(spec, self.codes, self.base, folder.as_posix())
            (root / f"{spec.name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True),
                                                    encoding="utf-8")
        self._write_treebanks(root / "probing")
        info = {
            "key": self.key, "encoder_key": self.encoder_key, "version": WORLD_VERSION,
            "config": self.config.model_dump(mode="json"), "tasks": summaries,
            "lexicons": {c: {"stems": l.stems, "function": l.function, "affixes": l.affixes,
                             "placeholder": l.placeholder} for c, l in self.lexicons.items()},
        }
        (root / "world.json").write_text(dumps_json(info), encoding="utf-8")

    def _write_treebanks(self, folder: Path) -> None:

        folder.mkdir(parents=True, exist_ok=True)
        rng = G.rng_for(self.config.seed, "treebank")
        n, custom = self.config.n_treebank, self.config.treebank_probes
        meanings = probe_meanings(rng, self.sampler, n, p_animate_object=0.5 if custom else 0.0)
        comments = [probe_comments(m) if custom else [] for m in meanings]
        if custom:  # token labels balanced on the base language, the same words kept in every language
            base = [Realizer(self.lexicons[self.base]).sentence(m) for m in meanings]
            keep = balanced_keep([token_probe_labels(m, r) for m, r in zip(meanings, base)],
                                 [[token_key(t) for t in r.tokens] for r in base], G.rng_for(self.config.seed, "balance"))
        for code, lex in self.lexicons.items():
            rows = []
            for i, m in enumerate(meanings):
                r = base[i] if custom and code == self.base else Realizer(lex).sentence(m)
                misc = ([token_misc(lab, token_key(t), i, keep) for lab, t in zip(token_probe_labels(m, r), r.tokens)]
                        if custom else None)
                rows.append({"id": f"tb-{i}", "tokens": r.forms, "tags": [t.upos for t in r.tokens], "realized": r,
                             "comments": comments[i], "misc": misc})
            (folder / f"{code}.conllu").write_text(_conllu(rows), encoding="utf-8")

    # ------------------------------------------------------------------ using
    def task_files(self) -> list[Path]:
        """The task YAML files (for ``--task-file``)."""
        return [self.path / f"{t.name}.yaml" for t in self.tasks]

    def register(self) -> "World":
        """Register every task of the (built) world in the task registry."""

        for f in self.task_files():
            register_task_file(f, overwrite=True)
        return self

    def treebank(self, code: str | None = None) -> Path:
        """The CoNLL-U treebank of a language (default: the base language)."""
        return self.path / "probing" / f"{code or self.base}.conllu"

    def info(self) -> dict:
        return json.loads((self.path / "world.json").read_text(encoding="utf-8"))

    def encoder(self, progress: bool = False) -> Path:
        """The pretrained encoder's folder (pretrained now if not cached)."""

        return ensure_encoder(self, self.home, progress)

    def encoder_dir(self) -> Path:
        """Where the encoder is (or will be) stored."""

        return encoder_dir(self.home, self.encoder_key)

    def alignment_report(self, layer: int | None = None) -> dict:
        """Retrieval accuracy base -> each language of the pretrained and the random-weights encoder.

        Tatoeba-style (base-language queries, cosine nearest neighbour of mean-pooled states of
        ``layer``) on the retrieval target's sentences, as XTREME scores it and with each side's
        mean embedding subtracted (``*_centered``); cached in the world directory.
        """

        cache = self.path / f"alignment-v2-{self.encoder_key}-{'default' if layer is None else layer}.json"
        if cache.exists():
            return json.loads(cache.read_text(encoding="utf-8"))
        pairs = self.retrieval_pairs()
        report = {"pretrained": retrieval_accuracy(self.encoder(), pairs, layer),
                  "random": retrieval_accuracy(self.random_encoder(), pairs, layer),
                  "pretrained_centered": retrieval_accuracy(self.encoder(), pairs, layer, center=True),
                  "random_centered": retrieval_accuracy(self.random_encoder(), pairs, layer, center=True),
                  "chance": chance_accuracy(len(next(iter(pairs.values()))[0])), "layer": layer,
                  "n": len(next(iter(pairs.values()))[0])}
        atomic_write_json(cache, report)
        return report

    def random_encoder(self) -> Path:
        """The same architecture and tokenizer with random weights (a control)."""

        return ensure_random_encoder(self, self.home)

    def retrieval_pairs(self, task: str | None = None) -> dict[str, tuple[list[str], list[str]]]:
        """Language -> (base sentences, translations) from the retrieval target's files."""
        name = task or next(t.name for t in self.config.targets if t.kind == "retrieval")
        folder = self.path / "data" / "target" / name
        out = {}
        for code in self.codes[1:]:
            other = (folder / f"{code}-en.{code}").read_text(encoding="utf-8").splitlines()
            base = (folder / f"{code}-en.en").read_text(encoding="utf-8").splitlines()
            out[code] = (base, other)
        return out


def build_world(config: WorldConfig | None = None, home=None) -> World:
    """Build (or reuse) and register a world; returns it."""
    return World(config, home).build()
