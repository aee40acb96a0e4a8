"""Transfer runs timed phase by phase, for :mod:`benchmarks.profile_vs_transfer`.

A *workload* is ``INTERMEDIATE:TARGET``. Its transfer is what ``taskdiff transfer`` runs for
that pair: the intermediate phase on the base encoder, the target phase on the encoder it
produced, and the zero-shot evaluation of that model in every requested language of the
target that has local data - the :mod:`taskdiff.transfer.phases` runs, in one fresh store.
An intermediate task is trained once for all workloads that share it, and its time is
counted in each of their transfer costs (a transfer to one target pays it in full).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks import _common as C


@dataclass(frozen=True)
class Workload:
    """One intermediate task and one target task."""

    intermediate: str
    target: str

    @property
    def name(self) -> str:
        return f"{self.intermediate}:{self.target}"


def parse_workloads(text: str) -> list[Workload]:
    """``"snli:xnli,snli:udpos"`` -> workloads (registered, trainable tasks only).

    Parameters
    ----------
    text : str
        Comma-separated ``INTERMEDIATE:TARGET`` pairs.

    Returns
    -------
    list of Workload
        In the given order, duplicates dropped.

    Raises
    ------
    SystemExit
        On a malformed pair or a target that is not trained (retrieval tasks).
    """
    from taskdiff.transfer.tasks import get_task

    out: list[Workload] = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        inter, sep, target = item.partition(":")
        if not sep or not inter.strip() or not target.strip():
            raise SystemExit(f"--workloads: expected INTERMEDIATE:TARGET, got {item!r}")
        w = Workload(inter.strip(), target.strip())
        for name in (w.intermediate, w.target):
            if not get_task(name).trainable:
                raise SystemExit(f"--workloads: task {name!r} is not trained (no transfer phase to time)")
        if w not in out:
            out.append(w)
    if not out:
        raise SystemExit("--workloads: no workload given")
    return out


def target_languages(target: str, data_dir: Path, requested: str) -> tuple[list[str], list[str]]:
    """Languages of ``target`` to evaluate in, and the requested ones left out (no local data).

    Parameters
    ----------
    target : str
        A registered task.
    data_dir : Path
        Local data root.
    requested : str
        ``all`` (every language the task declares) or a comma-separated list; languages the
        task does not declare, or without local evaluation files, are left out.

    Returns
    -------
    tuple of (list of str, list of str)
    """
    from taskdiff.transfer.data import available_splits
    from taskdiff.transfer.tasks import get_task

    task = get_task(target)
    wanted = list(task.languages) if requested.strip() == "all" else \
        [l.strip() for l in requested.split(",") if l.strip()]
    keep = [l for l in wanted if l in task.languages and available_splits(task, data_dir, l)]
    return keep, [l for l in wanted if l not in keep]


def _phase(times: dict, key: str) -> dict:
    return {"seconds": times.get(key, 0.0), "cpu_seconds": times.get(key + "_cpu", 0.0)}


def _train_intermediate(ws, s: C.Setup, name: str, seed: int, cfg) -> dict:
    """Intermediate phase of ``name`` on the base encoder, timed."""
    from taskdiff.transfer.phases import run_training, train_spec
    from taskdiff.transfer.tasks import get_task

    task, times = get_task(name), {}
    with C.stopwatch(times, "t"):
        spec = train_spec("intermediate", ws, task, f"base:{s.model_path}", seed, cfg)
        run = run_training(ws, spec, task, s.model_path, cfg, keep="encoder")
    return {**_phase(times, "t"), "run_id": run.run_id, "encoder": str(run.path / "encoder"),
            "n_train": run.metrics.get("n_train"), "cached": run.hit}


def _train_and_evaluate(ws, inter: dict, target: str, languages: list[str], seed: int, cfg) -> dict:
    """Target phase on the intermediate encoder, then zero-shot evaluation per language, timed."""
    from taskdiff.transfer.phases import eval_spec, run_evaluation, run_training, train_spec
    from taskdiff.transfer.tasks import get_task

    task, times, per_lang, scores = get_task(target), {}, {}, {}
    with C.stopwatch(times, "target"):
        spec = train_spec("target", ws, task, inter["run_id"], seed, cfg)
        trained = run_training(ws, spec, task, inter["encoder"], cfg, keep="model")
    for lang in languages:
        one: dict[str, float] = {}
        with C.stopwatch(one, "e"):
            run = run_evaluation(ws, eval_spec(ws, task, trained.run_id, lang), task,
                                 str(trained.path / "model"), lang)
        per_lang[lang] = {**_phase(one, "e"), "n": run.metrics.get("n")}
        scores[lang] = run.metrics.get("scores")
    evaluation = {"seconds": sum(v["seconds"] for v in per_lang.values()),
                  "cpu_seconds": sum(v["cpu_seconds"] for v in per_lang.values()),
                  "n_rows": sum(v["n"] or 0 for v in per_lang.values()), "per_language": per_lang}
    return {"target": {**_phase(times, "target"), "n_train": trained.metrics.get("n_train"),
                       "n_selection": trained.metrics.get("n_selection")},
            "evaluation": evaluation, "scores": scores}


def run_transfers(s: C.Setup, store_dir: Path, workloads: list[Workload], languages: dict[str, list[str]],
                  max_examples: int | None, seed: int, cfg) -> dict[str, dict]:
    """Every workload's transfer runs, timed per phase, in one fresh store.

    Parameters
    ----------
    s : Setup
    store_dir : Path
        A folder for a fresh run store.
    workloads : list of Workload
    languages : dict
        Target -> evaluation languages.
    max_examples : int or None
        Cap on every role's rows (None: all).
    seed : int
    cfg : TrainConfig
        Of both training phases.

    Returns
    -------
    dict
        Workload name -> ``{"phases": {"intermediate", "target", "evaluation"}`` (each with
        ``seconds`` and ``cpu_seconds``), ``"seconds"``, ``"cpu_seconds"`` (their sums: the
        intermediate phase counted in full for each workload), ``"languages"``, ``"scores"``,
        ``"intermediate_shared_with"`` (other workloads that reused its intermediate run)}.
    """
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.store import RunStore

    ws = Workspace(RunStore(store_dir), s.data_dir, max_examples, progress=False)
    inters: dict[str, dict] = {}
    out: dict[str, dict] = {}
    for w in workloads:
        if w.intermediate not in inters:
            inters[w.intermediate] = _train_intermediate(ws, s, w.intermediate, seed, cfg)
        inter = inters[w.intermediate]
        tgt = _train_and_evaluate(ws, inter, w.target, languages[w.target], seed, cfg)
        phases = {"intermediate": {k: inter[k] for k in ("seconds", "cpu_seconds", "n_train")},
                  "target": tgt["target"], "evaluation": tgt["evaluation"]}
        out[w.name] = {"phases": phases, "seconds": sum(p["seconds"] for p in phases.values()),
                       "cpu_seconds": sum(p["cpu_seconds"] for p in phases.values()),
                       "languages": languages[w.target], "scores": tgt["scores"],
                       "intermediate_shared_with": [v.name for v in workloads
                                                    if v.intermediate == w.intermediate and v != w]}
    return out
