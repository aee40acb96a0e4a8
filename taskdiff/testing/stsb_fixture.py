"""Project-made STS-B files in GLUE's layout (for tests of the ``regression`` format).

GLUE's ``STS-B/{train,dev}.tsv``: a header, then ``index genre filename year old_index
source1 source2 sentence1 sentence2 score`` per line, tab-separated and unquoted (sentences
may contain bare ``"``), scores with three decimals in [0, 5]. Here the sentences come from
the grammar of :mod:`taskdiff.testing.fixtures` and the score has a learnable signal: the
second sentence keeps the first one's subject, verb and object or changes some of them,
and the score is 5 x (kept slots) / 3. A pure function of ``seed`` and the sizes.
"""

from __future__ import annotations

import random
from pathlib import Path

from taskdiff.testing.fixtures import OBJECTS, SUBJECTS, VERBS

HEADER = ("index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2", "score")


def stsb_lines(seed: int, split: str, n: int) -> list[list[str]]:
    """The records (header first) of one split."""
    rng = random.Random(f"stsb:{seed}:{split}")
    verbs = sorted(VERBS)
    out = [list(HEADER)]
    for i in range(n):
        slots = [rng.choice(SUBJECTS), rng.choice(verbs), rng.choice(OBJECTS)]
        other = list(slots)
        changed = rng.sample(range(3), rng.randint(0, 3))
        pools = (SUBJECTS, verbs, OBJECTS)
        for k in changed:
            other[k] = rng.choice([w for w in pools[k] if w != slots[k]])
        first = f"The {slots[0]} will {slots[1]} the {slots[2]}."
        second = f"The {other[0]} will {other[1]} the {other[2]}."
        if i % 7 == 3:  # GLUE's files hold bare quotes (never quoted fields)
            second = f'"{second}" he said.'
        score = 5.0 * (3 - len(changed)) / 3
        out.append([str(i), "main-captions", "fixture", "2026", f"{i:04d}", "none", "none", first, second,
                    f"{score:.3f}"])
    return out


def write_stsb(root: Path, *, seed: int = 0, n_train: int = 48, n_dev: int = 24) -> Path:
    """Write ``root/intermediate/stsb/{train,dev}.tsv`` and return ``root``."""
    folder = Path(root) / "intermediate" / "stsb"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("dev", n_dev)):
        text = "".join("\t".join(rec) + "\n" for rec in stsb_lines(seed, split, n))
        (folder / f"{split}.tsv").write_text(text, encoding="utf-8")
    return Path(root)
