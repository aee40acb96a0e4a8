"""Fast tests of the testbed: determinism, languages, tasks, files, registration (seconds)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from taskdiff.testbed import grammar as G
from taskdiff.testbed.languages import DEFAULT_LANGUAGES, LanguageSpec, make_lexicons, realize
from taskdiff.testbed.tasks import TaskSpec, make_items
from taskdiff.testbed.world import World, WorldConfig


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> World:
    return World(WorldConfig.small(), tmp_path_factory.mktemp("home")).build()


# ----------------------------------------------------------------------------- determinism
def test_world_files_are_a_function_of_the_config(tmp_path, small_world):
    again = World(WorldConfig.small(), tmp_path).build()
    assert again.path.name == small_world.path.name
    assert _tree_digest(again.path) == _tree_digest(small_world.path)


def test_another_seed_gives_another_world(tmp_path, small_world):
    other = World(WorldConfig.small(seed=1), tmp_path).build()
    assert other.key != small_world.key
    a = (small_world.path / "data/target/tbx_nli/test.xa.jsonl").read_text()
    b = (other.path / "data/target/tbx_nli/test.xa.jsonl").read_text()
    assert a != b
    assert small_world.lexicons["xa"].stems != other.lexicons["xa"].stems


def test_encoder_key_ignores_the_tasks():
    a = WorldConfig.small()
    b = WorldConfig.small(intermediates=a.intermediates[:2])
    assert a.key != b.key and a.encoder_key == b.encoder_key


def test_corpus_is_deterministic():
    w1, w2 = World(WorldConfig.small()), World(WorldConfig.small())
    assert w1.corpus() == w2.corpus()


# ----------------------------------------------------------------------------- languages
def test_languages_differ_as_configured():
    lex = make_lexicons(DEFAULT_LANGUAGES, 0)
    # own lexicons: content forms disjoint except the cognates (base-language forms); anchors shared
    content = [k for k in lex["en"].stems if k not in G.NAMES + G.NUMBERS]
    stems = {c: {l.stems[k] for k in content} for c, l in lex.items()}
    codes = list(stems)
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            assert stems[a] & stems[b] <= stems["en"], (a, b)
    for code, l in lex.items():
        if code != "en":
            same = sum(l.stems[k] == lex["en"].stems[k] for k in content) / len(content)
            assert abs(same - l.spec.cognates) < 0.15, (code, same)
    clause = G.Clause("chase", G.NP("dog", "the", plural=True, adjs=("big",)), G.NP("Alice", "name"), "pres")
    spans = {}
    for code, l in lex.items():
        r = realize(clause, l)
        spans[code] = r
        assert "Alice" in " ".join(r.forms)  # a shared anchor
        order = [t.deprel for t in r.tokens if t.deprel in ("nsubj", "root", "obj")]
        expected = {"SVO": ["nsubj", "root", "obj"], "SOV": ["nsubj", "obj", "root"],
                    "VSO": ["root", "nsubj", "obj"]}[l.spec.word_order]
        assert order == expected, code
        upos = [t.upos for t in r.tokens if t.upos in ("ADJ", "NOUN")]
        assert upos == (["ADJ", "NOUN"] if l.spec.adj_position == "pre" else ["NOUN", "ADJ"]), code
        name = next(t for t in r.tokens if t.upos == "PROPN")
        assert (name.form != "Alice") == l.spec.case_marking, code  # accusative suffix
    # agreement: the verb form depends on the subject's number exactly when configured
    for code, l in lex.items():
        sg = l.verb("chase", l.stems["chase"], "pres", False)
        pl = l.verb("chase", l.stems["chase"], "pres", True)
        assert (sg != pl) == l.spec.agreement, code
    assert spans["en"].text == "the big dogs chase Alice ."


def test_relative_clause_position_and_anchor_sharing():
    xa = next(l for l in DEFAULT_LANGUAGES if l.code == "xa")
    lex = make_lexicons([DEFAULT_LANGUAGES[0], xa, LanguageSpec(code="xq", share_anchors=False)], 3)
    rel = G.Clause("see", None, G.NP("cat"), "past")
    clause = G.Clause("sleep", G.NP("dog", rel=rel), None, "pres")
    r = realize(clause, lex["xa"])
    forms = [t.upos for t in r.tokens]
    assert forms.index("PRON") < forms.index("NOUN", forms.index("PRON"))  # relative before its noun
    q = realize(G.Clause("sleep", G.NP("Alice", "name")), lex["xq"])
    assert q.forms[0] != "Alice"


def test_tokenizer_splits_inflections_into_shared_stems(tmp_path):
    from taskdiff.testbed.pretrain import build_tokenizer

    lex = make_lexicons(DEFAULT_LANGUAGES, 0)
    tok = build_tokenizer(lex, tmp_path)
    xa = lex["xa"]
    word = xa.noun(xa.stems["dog"], True, "acc")
    assert tok.tokenize(word) == [xa.stems["dog"], "##" + xa.affixes["pl"], "##" + xa.affixes["acc"]]
    borrowed = xa.noun(lex["en"].stems["dog"], True, None)  # code-switched: English stem, xa plural
    assert tok.tokenize(borrowed)[0] == "dog"
    assert tok.unk_token not in tok.tokenize(" ".join(World(WorldConfig.small()).corpus()[:200]))


# ----------------------------------------------------------------------------- semantics
@pytest.mark.parametrize("premise,hypothesis,label", [
    (("every", "animal", (), "run"), ("every", "dog", (), "run"), "entailment"),
    (("every", "dog", (), "run"), ("every", "animal", (), "run"), "neutral"),
    (("some", "dog", ("big",), "run"), ("some", "dog", (), "move"), "entailment"),
    (("some", "dog", (), "move"), ("some", "dog", (), "run"), "neutral"),
    (("no", "animal", (), "move"), ("no", "dog", ("big",), "run"), "entailment"),
    (("no", "dog", (), "run"), ("no", "animal", (), "run"), "neutral"),
])
def test_monotonicity(premise, hypothesis, label):
    def clause(q, n, adjs, v):
        return G.Clause(v, G.NP(n, q, adjs=adjs))

    assert G.monotone_relation(clause(*premise), clause(*hypothesis)) == label


def test_entailment_items_are_balanced_and_exact():
    items = make_items(TaskSpec(name="t", kind="entail"), 0, "train", 300)
    counts = Counter(i["label"] for i in items)
    assert set(counts) == set(G.NLI_LABELS) and max(counts.values()) - min(counts.values()) <= 1
    for it in items:
        p, h = it["a"], it["b"]
        if p.subj.det == h.subj.det and p != h:
            assert it["label"] == G.monotone_relation(p, h)
        elif p.subj.det != h.subj.det:
            assert it["label"] == G.QUANTIFIER_RELATIONS[(p.subj.det, h.subj.det)]


# ----------------------------------------------------------------------------- files and registry
def test_tasks_are_registered_and_load_in_every_language(small_world):
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    small_world.register()  # the registry is global: another test's world may have been registered last
    for spec in small_world.tasks:
        task = get_task(spec.name)
        assert task.base_dir == str(small_world.path)
        if task.trainable:
            train = load_role(task, "train", "en")
            assert len(train.rows) == spec.size
            load_role(task, "selection", "en")
        langs = task.languages
        for lang in langs:
            rows = load_role(task, "evaluation", lang).rows
            assert rows
        if spec.role == "target" and task.trainable:
            ids = {l: [r["id"] for r in load_role(task, "evaluation", l).rows] for l in langs}
            assert all(v == ids["en"] for v in ids.values())  # translations share ids


def test_task_files_load_like_user_task_files(small_world):
    from taskdiff.transfer.tasks import load_task_file

    for f in small_world.task_files():
        cfg = load_task_file(f)
        assert cfg.local.layout == "files" and cfg.base_dir == str(f.parent)


def test_label_noise_is_applied_at_the_requested_rate(tmp_path):
    specs = tuple(TaskSpec(name=f"tb_entail_n{int(p * 100)}", kind="entail", label_noise=p, size=400,
                           n_validation=20, n_test=20) for p in (0.0, 0.3))
    cfg = WorldConfig.small(intermediates=specs, targets=WorldConfig.small().targets[-1:])
    w = World(cfg, tmp_path).build()
    info = {t["name"]: t for t in w.info()["tasks"]}
    assert info["tb_entail_n0"]["splits"]["train"]["noisy_fraction"] == 0
    assert 0.24 < info["tb_entail_n30"]["splits"]["train"]["noisy_fraction"] < 0.36
    clean = [json.loads(l) for l in (w.path / "data/intermediate/tb_entail_n0/train.en.jsonl").open()]
    noisy = [json.loads(l) for l in (w.path / "data/intermediate/tb_entail_n30/train.en.jsonl").open()]
    # a variant has exactly the clean task's items; only labels differ
    assert [(r["premise"], r["hypothesis"], r["clean_label"]) for r in clean] == \
        [(r["premise"], r["hypothesis"], r["clean_label"]) for r in noisy]


def test_qa_answers_are_spans_of_the_context(small_world):
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    small_world.register()
    for lang in small_world.codes:
        for r in load_role(get_task("tbx_qa"), "evaluation", lang).rows:
            text, start = r["answers"]["text"][0], r["answers"]["answer_start"][0]
            assert r["context"][start:start + len(text)] == text


def test_treebank_has_probe_annotation(small_world):
    from taskdiff.difficulty.probing import build_probe_suite, load_sentences

    sents = load_sentences(small_world.treebank())
    suite = build_probe_suite(sents, seed=0, min_examples=5)
    assert {"upos", "tree_depth", "tense", "subj_number"} <= set(suite.probes)
    custom = build_probe_suite(sents, seed=0, min_examples=2, probes=["subj_category", "rel_attachment"])
    assert {p.group for p in custom.probes.values()} <= {"semantic", "syntactic"}
    assert set(custom.probes["subj_category"].labels) <= {"animal", "human"}
    # token-level probes: balanced labels, the same words (by concept) in every language
    tokens = build_probe_suite(sents, seed=0, min_examples=2, probes=["polarity", "verb_subj_number"])
    for name, probe in tokens.probes.items():
        assert probe.level == "token"
        counts = Counter(probe.labels)
        assert len(counts) == 2 and len(set(counts.values())) == 1, (name, counts)

    def labelled(code):
        out = []
        for i, sent in enumerate(load_sentences(small_world.treebank(code))):
            out += [(i, t["lemma"], t["misc"]["probe.polarity.semantic"]) for t in sent
                    if t["misc"] and "probe.polarity.semantic" in t["misc"]]
        return sorted(out)

    assert labelled("en") == labelled("xa") == labelled("xb") and len(labelled("en")) > 20


def test_probing_params_are_valid_probing_settings_for_the_world_treebank(small_world):
    """The testbed's comparison settings name real probes of a world treebank (one syntactic,
    one semantic, both token-level) and build a probing measure."""
    from taskdiff.difficulty import get_measure
    from taskdiff.difficulty.probing.suites import build_probe_suite
    from taskdiff.difficulty.probing.summary import check_groups, check_headroom
    from taskdiff.testbed.probes import HEADROOM, TEST_FRACTION, TOKEN_PROBES, WORLD_GROUPS, probing_params

    params = probing_params()
    spec = get_measure("probing")(**params).spec_params()
    assert spec["probes"] == list(TOKEN_PROBES) and spec["headroom"] == list(HEADROOM)
    assert spec["test_fraction"] == TEST_FRACTION and spec["layers"] == [-1] and "groups" not in spec
    assert check_headroom(params["headroom"]) == HEADROOM
    suite = build_probe_suite(small_world.treebank(), min_examples=2)
    assert {(suite.probes[n].group, suite.probes[n].level) for n in params["probes"]} == {
        ("syntactic", "token"), ("semantic", "token")}
    # the full suite's regrouping (number and tense are morphosyntax here) is still valid
    assert set(WORLD_GROUPS.values()) == {"syntactic"}
    assert check_groups(WORLD_GROUPS, list(suite.probes)) == WORLD_GROUPS