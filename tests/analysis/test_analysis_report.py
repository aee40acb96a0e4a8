"""The report: self-contained HTML, Markdown with figures on disk, verdicts in words."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from taskdiff.analysis.api import report

FAST = dict(n_perm=499, n_boot=200)
FIGURES = ("gains", "languages", "scatter", "coefficients", "probing", "loto")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "img":
            self.imgs.append(dict(attrs))


def _parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    c.close()
    return c


@pytest.fixture(scope="module")
def effect_report(effect_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html, md = report(effect_study, out, **FAST)
    return out, html, md


@pytest.fixture(scope="module")
def null_report(null_study, tmp_path_factory):
    out = tmp_path_factory.mktemp("null-report")
    return report(null_study, out, **FAST)


def _render(study, **kw):
    """(html, md, analysis) without figures: the text of the report, fast."""
    import warnings

    from taskdiff.analysis.report.analyses import analyse_study
    from taskdiff.analysis.report.context import build_context
    from taskdiff.analysis.report.writer import _environment
    from taskdiff.analysis.table import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse_study(load_study(study), n_perm=99, n_boot=50, **kw)
    ctx = build_context(a, {})
    env = _environment()
    return (env.get_template("report.html.j2").render(**ctx),
            env.get_template("report.md.j2").render(**ctx), a)


def test_html_is_self_contained(effect_report):
    out, html_path, _ = effect_report
    assert html_path == out / "report.html"
    html = html_path.read_text(encoding="utf-8")
    parsed = _parse(html)
    assert len(parsed.imgs) == len(FIGURES)
    for img in parsed.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt")
    assert "http://" not in html and "https://" not in html
    assert not [t for t, a in parsed.tags if t in ("link", "script", "iframe")]
    assert "<style>" in html


def test_markdown_and_figures_on_disk(effect_report):
    out, _, md_path = effect_report
    md = md_path.read_text(encoding="utf-8")
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(refs) == len(FIGURES)
    for ref in refs:
        assert (out / ref).is_file() and (out / ref).stat().st_size > 0
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        svg = (out / "figures" / f"{name}.svg").read_text()
        assert "<svg" in svg
    assert "(figures/scatter.svg)" in md


def test_same_content_in_both_files(effect_report):
    _, html_path, md_path = effect_report
    html, md = html_path.read_text(), md_path.read_text()
    for section in ("Findings", "Transfer gains", "correlations", "Regression", "Mixed model",
                    "Predicting the gain", "Difficulty profiles", "Methods and provenance"):
        assert section in html and section in md
    for fact in ("remain significant after Benjamini–Hochberg", "better than random",
                 "normalized_baseline_loss", "12 intermediate tasks", "gains.csv",
                 "best on average", "LogME", "data size", "SHA-256"):
        assert fact in html and fact in md, fact


def test_methods_carry_provenance(effect_report, effect_study):
    _, _, md_path = effect_report
    md = md_path.read_text()
    import hashlib
    digest = hashlib.sha256((effect_study / "gains.csv").read_bytes()).hexdigest()
    assert digest in md and str(effect_study.resolve()) in md
    # provenance as readable columns (task, model, seed, ..., versions), not a raw dict
    assert "| task | model | seed | max_examples | created | versions |" in md
    assert "| task11 | tiny | [1, 2] |" in md and "taskdiff 0.1.0" in md
    assert "Encoder: tiny (from profile provenance)." in md
    assert "statsmodels" in md and "seed 0" in md


def test_provenance_summary_is_short():
    from taskdiff.analysis.report.context import provenance_summary
    prov = {"model": "tiny", "seed": 1, "versions": {"torch": "2.4", "deep": {"x": 1}},
            "measures": {"size": {"run_id": "abc", "result": {"curve": list(range(10_000))}},
                         "logme": {"result": {}}},
            "caps": [1, 2]}
    text = provenance_summary(prov)
    assert text == ('caps: [1, 2]; measures: size (run abc), logme; model: tiny; seed: 1; '
                    'versions: {"torch": "2.4"}')
    assert len(provenance_summary({"k": "x" * 5000})) == 600


def test_null_report_says_so_in_words(null_report):
    html, md = (p.read_text() for p in null_report)
    for text in (html, md):
        assert "No feature is significantly associated with the transfer gain" in text
        assert "no better than random" in text
        assert "No feature of the pre-specified model" in text


def test_too_small_n_shows_message_instead_of_number(make_study, tmp_path):
    """Issue 14 item 4: 4 tasks, a near-perfect fit. The report used to print one-feature
    slopes with t in the hundreds beside 'nothing can be significant with n = 4'; now every
    section says the same thing and no task-level statistic is printed."""
    study = make_study("tiny", n_tasks=4, effect=2.0, noise_sd=0.05, task_sd=0.01)
    html, md, a = _render(study)
    for text in (html, md):
        assert "Not fitted: " in text
        assert "the profiles hold the pre-specified features" in text
        assert "no task-level test can reach α = 0.05" in text
        assert "2/4! = 0.0833" in text
        assert "at least 5 intermediate tasks are needed" in text
    section = md.split("## Gain vs difficulty")[1].split("## Predicting")[0]
    assert "| const |" not in section and "| normalized_baseline_loss |" not in section
    assert "| feature | estimate |" not in section and "p_value" not in section
    assert a.univariate == {} and a.correlations is None  # so no slope figure either


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    try:
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


PROBE = """<script>
window.addEventListener('load', function () {
  document.querySelectorAll('img').forEach(function (img) {
    img.setAttribute('data-natural', img.naturalWidth + 'x' + img.naturalHeight);
  });
  document.body.setAttribute('data-probed', 'yes');
});
</script></body>"""


@pytest.mark.slow
def test_report_renders_in_headless_chromium(effect_report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed and apt-get install chromium failed")
    _, html_path, _ = effect_report
    probe = tmp_path / "probe.html"  # a copy with a probe script; the report has none
    probe.write_text(html_path.read_text().replace("</body>", PROBE))
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=10000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=180).stdout
    assert 'data-probed="yes"' in dom
    sizes = re.findall(r'data-natural="(\d+)x(\d+)"', dom)
    assert len(sizes) == len(FIGURES)
    assert all(int(w) > 0 and int(h) > 0 for w, h in sizes)
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1200,2000",
                            html_path.as_uri()], capture_output=True, timeout=180)
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_profiles_without_probing_like_the_demo(sim, tmp_path):
    gains, profiles = sim.study(4, n_tasks=5)
    for p in profiles.values():
        p["probing"] = {k: None for k in p["probing"]}
    study = sim.write(tmp_path / "demo", gains, profiles)
    html_path, md_path = report(study, tmp_path / "out", **FAST)
    md = md_path.read_text()
    assert "no syntactic-vs-semantic map" in md
    assert "log_n_examples" in md.split("### Pre-specified multivariable model")[1]
    assert "probing.syntax_semantics_index:" not in md  # not in the model: all null
    assert len(_parse(html_path.read_text()).imgs) == len(FIGURES) - 1


def test_two_tasks_name_the_prespecified_features(make_study, tmp_path):
    """Issue 15 item 9: with 2 tasks the report used to say the pre-specified features
    were unknown although the profiles held them."""
    study = make_study("two", n_tasks=2)
    _, md, _ = _render(study)
    assert "none of the pre-specified features" not in md
    assert ("the profiles hold the pre-specified features (log_n_examples, "
            "normalized_baseline_loss, probing.syntax_semantics_index)") in md


def test_dropped_prespecified_feature_is_named_with_reason(sim, tmp_path):
    gains, profiles = sim.study(4, n_tasks=6)
    for p in profiles.values():
        p["probing"]["syntax_semantics_index"] = 0.25
    profiles["task02"]["normalized_baseline_loss"] = None
    study = sim.write(tmp_path / "d", gains, profiles)
    _, md, _ = _render(study)
    assert ("Pre-specified features left out of the models: normalized_baseline_loss — "
            "missing (null) in the profile of task02; probing.syntax_semantics_index — the "
            "same value (0.25) for every intermediate task (used: log_n_examples).") in md


def test_baseline_table_flags_chance(sim, tmp_path):
    """Issue 15 item 9: absolute baselines, with PAWS-X at 50.0 (two labels) flagged."""
    gains, profiles = sim.study(2, n_tasks=5, targets=("xnli", "pawsx"))
    gains.loc[gains["target"] == "pawsx", "baseline_score"] = 50.0
    gains["score"] = gains["baseline_score"] + gains["gain"]
    study = sim.write(tmp_path / "c", gains, profiles)
    _, md, _ = _render(study)  # no targets.json (an older study folder): no chance level claimed
    assert "AT CHANCE" not in md and "Baseline at chance level" not in md
    from taskdiff.study.targets import write_targets

    write_targets(gains.to_dict("records"), study)  # what the study writes next to gains.csv
    html, md, _ = _render(study)
    assert "| pawsx | accuracy | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 | AT CHANCE: every language |" in md
    assert "| xnli | accuracy |" in md and "| 33.3 |  |" in md
    assert "Baseline at chance level for pawsx (mean 50.0, chance 50.0" in md
    assert "AT CHANCE" in html


def test_methods_show_encoder_hyperparameters_and_max_examples(make_study, tmp_path):
    import json
    study = make_study("m", n_tasks=5)
    manifest = {"config": {"models": ["e5-small-offline"], "max_examples": 400, "seeds": [1, 2, 3],
                           "languages": ["de", "fr"],
                           "intermediate_train": {"learning_rate": 3e-05, "epochs": 2.0,
                                                  "batch_size": 16, "ray": {"x": 1}},
                           "target_train": {"learning_rate": 1e-05, "epochs": 3.0}},
                "data_dir": "/data"}
    (study / "study.json").write_text(json.dumps(manifest))
    _, md, _ = _render(study)
    assert "- Encoder: e5-small-offline (from study.json)." in md
    assert "- Intermediate training: learning_rate 3e-05, epochs 2.0, batch_size 16." in md
    assert "- Target training: learning_rate 1e-05, epochs 3.0." in md
    assert "max_examples: 400; seeds [1, 2, 3]; languages de, fr; data /data." in md


def test_published_xstilts_direction_check_is_labelled(make_study, tmp_path):
    study = make_study("p", n_tasks=5, targets=("xnli", "panx"))
    html, md, _ = _render(study)
    assert "another model&#39;s" in html or "another model's" in html
    assert "another model's" in md and "XLM-R Large" in md
    assert "| xnli | 79.2 | 80.0 | +0.8 |" in md
    assert "| panx | 65.4 | 64.0 | -1.4 |" in md


def test_dash_cells_in_per_target_table_have_a_reason(sim, tmp_path):
    """Issue 15 item 9: a constant LogME gives every held-out task the same baseline score,
    so its Spearman is undefined; the per-target table says why instead of a bare '–'."""
    gains, profiles = sim.study(6, n_tasks=5)
    for p in profiles.values():
        p["logme"] = 0.5
    study = sim.write(tmp_path / "dash", gains, profiles)
    _, md, a = _render(study)
    per_target = md.split("Per target:")[1]
    assert "| why – |" in per_target.splitlines()[2]
    logme_rows = [r for r in per_target.splitlines() if r.startswith("| LogME |")]
    assert logme_rows and all("this method gives every held-out task the same score" in r
                              for r in logme_rows)


def test_scatter_has_no_band_below_the_floor():
    """Below the few-tasks floor the scatter shows points only (no line, no band)."""
    import numpy as np
    import pandas as pd

    from taskdiff.analysis.report import figures as F

    X = pd.DataFrame({"logme": [0.1, 0.5, 0.2, 0.9]}, index=list("abcd"))
    y = pd.Series([0.3, -0.1, 0.4, 1.0], index=list("abcd"))
    with_band = F.feature_scatter(X, y).axes[0]
    points = F.feature_scatter(X, y, band=False).axes[0]
    assert len(with_band.lines) == 1 and len(with_band.collections) == 2
    assert len(points.lines) == 0 and len(points.collections) == 1
    assert np.allclose(points.collections[0].get_offsets(), np.c_[X["logme"], y])


def test_ols_and_mixed_model_agreement_is_stated():
    """The findings say whether the pre-specified OLS and the mixed model agree."""
    import pandas as pd
    import scipy.stats

    from taskdiff.analysis.regression import CoefficientResults
    from taskdiff.analysis.report.analyses import ModelOutcome
    from taskdiff.analysis.report.context import _agreement

    def outcome(p_slope):
        t = float(scipy.stats.t.isf(p_slope / 2, 10))
        res = CoefficientResults(params=pd.Series([0.0, t], index=["const", "x"]),
                                 bse=pd.Series([1.0, 1.0], index=["const", "x"]),
                                 df_inference=10.0, n_obs=50, n_groups=12)
        return ModelOutcome("m", ("x",), results=res)

    class A:
        settings = {"alpha": 0.05}
    a = A()
    a.multivariable, a.mixed = outcome(0.01), outcome(0.34)
    assert "disagree on x (OLS p = 0.010, mixed model p = 0.340)" in _agreement(a)
    a.mixed = outcome(0.02)
    assert "agrees" in _agreement(a)
