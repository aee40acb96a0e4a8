"""Reference run: taskdiff's seqeval-0.0.12 POS F1 against the real seqeval 0.0.12 and against 1.2.2.

seqeval 0.0.12 declares Keras as a dependency, so it is not installed in the environment;
put it aside first and run::

    .venv/bin/pip install --no-deps --target /tmp/seq0012 seqeval==0.0.12
    .venv/bin/python tests/transfer/seqeval_0012_reference.py [DATA_DIR] [SEQEVAL_0012_DIR]

(defaults ../shared/data and /tmp/seq0012). On every UD dev file of ``xtreme/udpos``,
predictions are the gold tags with 5 % / 20 % replaced by a random UPOS tag (seed 0); the
script asserts that :func:`taskdiff.transfer.metrics.pos` equals 0.0.12's ``f1_score`` and
prints how far 1.2.2's differs. It also asserts 1.2.2 == 0.0.12 on 300 random IOB2 cases
(PAN-X's tags).
"""

from __future__ import annotations

import importlib.util
import random
import sys
import warnings
from pathlib import Path


def _old_seqeval(folder: Path):
    spec = importlib.util.spec_from_file_location(
        "seqeval_0012", folder / "seqeval" / "metrics" / "sequence_labeling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(root: Path, old_dir: Path) -> float:
    from seqeval.metrics import f1_score as f1_new

    from taskdiff.transfer.metrics import pos
    from taskdiff.transfer.readers.xtreme import UPOS_TAGS, read_xtreme, xtreme_files

    old = _old_seqeval(old_dir)
    worst = 0.0
    for (split, lang), _ in sorted(xtreme_files("udpos", root).items()):
        if split != "validation":
            continue
        gold = [r["tags"] for r in read_xtreme("udpos", root, lang, split)]
        rng = random.Random(0)
        for rate in (0.05, 0.2):
            pred = [[t if rng.random() > rate else rng.choice(UPOS_TAGS) for t in s] for s in gold]
            ours, ref = pos(pred, gold)["f1"], 100 * old.f1_score(gold, pred)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                new = 100 * f1_new(gold, pred)
            assert abs(ours - ref) < 1e-9, (lang, rate, ours, ref)
            worst = max(worst, abs(new - ref))
            print(f"{lang} rate={rate} 0.0.12={ref:.3f} taskdiff={ours:.3f} 1.2.2={new:.3f} ({new - ref:+.3f})")
    rng = random.Random(1)
    tags = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    for _ in range(300):
        g = [[rng.choice(tags) for _ in range(rng.randint(1, 12))] for _ in range(rng.randint(1, 5))]
        p = [[rng.choice(tags) for _ in s] for s in g]
        assert abs(old.f1_score(g, p) - f1_new(g, p)) < 1e-12
    print(f"max |1.2.2 - 0.0.12| on POS = {worst:.3f} points; IOB2: 300 random cases equal")
    return worst


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2]  # the repository
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "shared" / "data",
         Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/seq0012"))
