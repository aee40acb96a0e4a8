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

pytestmark = pytest.mark.slow


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


def test_zero_shot_transfer_is_real(demo_dir, demo_world):
    """Every transferring target, every language: above chance and above random weights."""
    from taskdiff.demo import read_summary
    from taskdiff.testbed.world import TRANSFERRING_TARGETS, chance_score
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.pipeline import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore

    from taskdiff.demo import train_configs

    summary = read_summary(demo_dir)
    store = RunStore(summary["store"])
    targets = [t for t in summary["targets"] if t in TRANSFERRING_TARGETS]
    _, target_cfg = train_configs()
    rows = {}
    for name, model in (("pretrained", summary["encoder"]), ("random", str(demo_world.random_encoder()))):
        req = TransferRequest(model=model, intermediates=summary["intermediates"][:1], targets=targets,
                              languages=demo_world.codes, seeds=[1], intermediate_train=target_cfg,
                              target_train=target_cfg)
        run_transfer(req, Workspace(store, None, progress=False), demo_dir / f"zero-shot-{name}")
        s = pd.read_csv(demo_dir / f"zero-shot-{name}" / "scores.csv")
        rows[name] = s[(s["intermediate"] == "none") & s["metric"].isin(["accuracy", "f1"])]
    for target in targets:
        for lang in demo_world.codes[1:]:
            pre = rows["pretrained"].query("target == @target and language == @lang")["score"].mean()
            rnd = rows["random"].query("target == @target and language == @lang")["score"].mean()
            chance = chance_score(demo_world, target)
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
    """Monotone over the demo's noise ladder (0, 0.2, 0.4, 0.6) of the entailment task."""
    from taskdiff.demo import profile_params, read_summary

    store = read_summary(demo_dir)["store"]
    ladder = ["tb_entail", "tb_entail_n20", "tb_entail_n40", "tb_entail_n60"]
    flats = [_profile(demo_world, store, n, ["vinfo", "cartography"], {k: v for k, v in profile_params().items()
                                                                        if k in ("vinfo", "cartography")})
             for n in ladder]
    vinfo = [f["v_information"] for f in flats]
    amb_hard = [f["cartography"]["ambiguous_frac"] + f["cartography"]["hard_frac"] for f in flats]
    assert all(a > b for a, b in zip(vinfo, vinfo[1:])), vinfo
    assert all(a < b for a, b in zip(amb_hard, amb_hard[1:])), amb_hard


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
