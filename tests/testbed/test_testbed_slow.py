"""Full-size testbed tests (``make test-slow``): the demo, zero-shot transfer, planted effects.

They share one store (``$TASKDIFF_TESTBED_STORE``, default a session temporary folder): the
demo runs once (world, encoder, profiles, transfer grid, report) and the other tests read
its outputs or add a few runs to the same store. Set ``TASKDIFF_TESTBED_STORE`` to a
persistent folder to make later sessions reuse the encoder and every run.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.demo]  # full-size: `make test-demo`


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    from taskdiff.demo import run_demo

    store = os.environ.get("TASKDIFF_TESTBED_STORE")
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, Path(store) if store else out / "store", progress=False)
    return out


@pytest.fixture(scope="session")
def demo_world(demo_dir):
    from taskdiff.demo import demo_world_config, read_summary
    from taskdiff.testbed.world import World

    summary = read_summary(demo_dir)
    world = World(demo_world_config(), Path(summary["store"]))
    return world.build()


def test_demo_writes_the_report_and_recovers_the_planted_relation(demo_dir):
    from taskdiff.demo import read_summary

    assert (demo_dir / "report.html").stat().st_size > 10_000
    assert (demo_dir / "gains.csv").exists()
    rec = read_summary(demo_dir)["recovered"]
    assert rec is not None, "the planted-relation regression was not fitted"
    assert rec["estimate"] > 0 and rec["lower"] > 0, rec  # V-information -> gain, interval above 0
    md = (demo_dir / "report.md").read_text(encoding="utf-8")
    assert "v_information" in md


def test_demo_second_run_reuses_every_run(demo_dir, tmp_path):
    import time

    from taskdiff.demo import read_summary, run_demo

    summary = read_summary(demo_dir)
    start = time.perf_counter()
    run_demo(tmp_path / "again", Path(summary["store"]), progress=False)
    assert time.perf_counter() - start < 120
    a = pd.read_csv(demo_dir / "gains.csv")
    b = pd.read_csv(tmp_path / "again" / "gains.csv")
    pd.testing.assert_frame_equal(a, b)


def _chance(world, target: str, language: str) -> float:
    """Accuracy of always predicting the most frequent label (tag) of the evaluation data, 0-100."""
    from collections import Counter

    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    rows = load_role(get_task(target), "evaluation", language).rows
    labels = [t for r in rows for t in r["tags"]] if "tags" in rows[0] else [r["label"] for r in rows]
    return 100.0 * Counter(labels).most_common(1)[0][1] / len(labels)


#: Targets that transfer to every language, and the languages NLI transfers to (xa, the distant
#: language, has too few cognate function words for the quantifier logic to carry over).
EVERYWHERE = ("tbx_para", "tbx_pos")
NLI_LANGUAGES = ("xb", "xc")


def test_zero_shot_transfer_is_real(demo_dir, demo_world):
    """No intermediate task: above chance, and above the random-weights encoder."""
    from taskdiff.demo import read_summary, train_configs
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.pipeline import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore

    summary = read_summary(demo_dir)
    store = RunStore(summary["store"])
    targets = list(EVERYWHERE) + ["tbx_nli"]
    inter_cfg, target_cfg = train_configs()
    scores = {}
    for name, model in (("pretrained", summary["encoder"]), ("random", str(demo_world.random_encoder()))):
        req = TransferRequest(model=model, intermediates=["tb_entail"], targets=targets,
                              languages=demo_world.codes, seeds=[1], intermediate_train=inter_cfg,
                              target_train=target_cfg)
        run_transfer(req, Workspace(store, None, progress=False), demo_dir / f"zero-shot-{name}")
        s = pd.read_csv(demo_dir / f"zero-shot-{name}" / "scores.csv")
        s = s[(s["intermediate"] == "none") & (s["metric"] == "accuracy")]
        scores[name] = s.groupby(["target", "language"])["score"].mean()
    checks = [(t, l) for t in EVERYWHERE for l in demo_world.codes[1:]] + [("tbx_nli", l) for l in NLI_LANGUAGES]
    for target, lang in checks:
        pre, rnd = scores["pretrained"][(target, lang)], scores["random"][(target, lang)]
        chance = _chance(demo_world, target, lang)
        assert pre > chance + 10, (target, lang, pre, chance)
        assert pre > rnd + 5, (target, lang, pre, rnd)


def test_alignment_beats_random_weights(demo_dir):
    from taskdiff.demo import read_summary

    al = read_summary(demo_dir)["alignment"]
    for lang, acc in al["pretrained"].items():
        assert acc > al["chance"], (lang, acc)


# ----------------------------------------------------------------------------- planted effects
def _profile(world, store, name, measures, params, seed=0):
    from taskdiff.difficulty.api import profile_task

    return profile_task(name, str(world.encoder()), measures=measures, store=store, seed=seed, progress=False,
                        params=params).to_flat()


def test_label_noise_lowers_v_information_and_raises_ambiguous_hard(demo_dir, demo_world):
    """Monotone over four noise levels (0, 0.2, 0.4, 0.6): POS tagging (both measures) and the
    demo's entailment ladder (V-information; its budget model learns too little for the data map)."""
    from taskdiff.demo import profile_params, read_summary

    store = read_summary(demo_dir)["store"]
    params = {k: v for k, v in profile_params().items() if k in ("vinfo", "cartography")}
    flats = [_profile(demo_world, store, n, ["vinfo", "cartography"], params)
             for n in ("tb_pos", "tb_pos_n20", "tb_pos_n40", "tb_pos_n60")]
    vinfo = [f["v_information"] for f in flats]
    amb_hard = [f["cartography"]["ambiguous_frac"] + f["cartography"]["hard_frac"] for f in flats]
    assert all(a > b for a, b in zip(vinfo, vinfo[1:])), vinfo
    assert all(a < b for a, b in zip(amb_hard, amb_hard[1:])), amb_hard
    import json

    entail = [json.loads((demo_dir / "profiles" / f"{n}.json").read_text())["v_information"]
              for n in ("tb_entail", "tb_entail_n20", "tb_entail_n40", "tb_entail_n60")]
    assert all(a > b for a, b in zip(entail, entail[1:])), entail


def test_syntactic_tasks_raise_syntactic_probes_and_semantic_tasks_semantic_ones(demo_dir, demo_world):
    from taskdiff.difficulty.registry import known_names
    from taskdiff.demo import read_summary, train_configs

    if "probing" not in known_names():
        pytest.skip("the probing measure is not available")
    store = read_summary(demo_dir)["store"]
    inter_cfg, _ = train_configs()
    params = {"probing": {"treebank": str(demo_world.treebank()), "intermediate_train": inter_cfg.model_dump(),
                          "mdl": False, "control": False, "max_sentences": 300}}
    syn = {n: _profile(demo_world, store, n, ["probing"], params, seed=1)["probing"] for n in ("tb_pos", "tb_agree")}
    sem = {n: _profile(demo_world, store, n, ["probing"], params, seed=1)["probing"] for n in ("tb_entail", "tb_para")}
    syn_gain_syn = np.mean([p["syntactic"] for p in syn.values()])
    syn_gain_sem = np.mean([p["syntactic"] for p in sem.values()])
    sem_gain_syn = np.mean([p["semantic"] for p in syn.values()])
    sem_gain_sem = np.mean([p["semantic"] for p in sem.values()])
    assert syn_gain_syn > syn_gain_sem, (syn, sem)
    assert sem_gain_sem > sem_gain_syn, (syn, sem)
