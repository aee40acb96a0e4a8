"""docs/difficulty/index.md's table of real profiles is the shipped profiles, rounded.

The five profiles in ``results/profiles-real-slices/`` were made with the command the page
states (offline encoder, real slices); the table must quote them, not an older run.
"""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "difficulty" / "index.md"
PROFILES = REPO / "results" / "profiles-real-slices"
TASKS = ("snli", "ud_en_pos", "commonsenseqa", "siqa", "cosmosqa")


def _table_rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Real profiles"):]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] in TASKS:
            rows[cells[0]] = cells
    return rows


def _close(quoted: str, value: float) -> bool:
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return abs(float(quoted) - value) <= 0.5 * 10 ** -decimals + 1e-12


@pytest.mark.parametrize("task", TASKS)
def test_the_table_quotes_the_shipped_profile(task):
    row = _table_rows()[task]
    p = json.loads((PROFILES / f"{task}.json").read_text())
    carto = p["cartography"]
    measures = p["provenance"]["measures"]
    contrast = measures["probing"]["result"]["syntax_semantics"]
    assert int(row[1]) == measures["cartography"]["result"]["epochs_trained"]
    expected = [p["normalized_baseline_loss"], p["v_information"], carto["confidence_mean"],
                carto["variability_mean"]]
    for quoted, value in zip(row[2:6], expected):
        assert _close(quoted, value), (task, quoted, value)
    fractions = [float(x) for x in row[6].split("/")]
    assert fractions == pytest.approx([carto["easy_frac"], carto["ambiguous_frac"], carto["hard_frac"]], abs=5e-4)
    assert _close(row[7], p["probing"]["syntactic"]) and _close(row[8], p["probing"]["semantic"])
    diff, lo, hi = (float(x) for x in re.findall(r"-?\d+\.\d+", row[9]))
    assert _close(f"{diff:.4f}", contrast["difference"])
    assert [lo, hi] == pytest.approx(contrast["ci"], abs=5e-5)
    assert row[10] == "null" and p["probing"]["syntax_semantics_index"] is None


def test_the_profiles_differ_and_no_region_is_degenerate():
    profiles = [json.loads((PROFILES / f"{t}.json").read_text()) for t in TASKS]
    for p in profiles:
        for key in ("easy_frac", "ambiguous_frac", "hard_frac"):
            assert 0 < p["cartography"][key] < 1
    for key in ("normalized_baseline_loss", "v_information"):
        values = [round(p[key], 3) for p in profiles]
        assert len(set(values)) == len(values), (key, values)
