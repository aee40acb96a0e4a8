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
    assert "model: tiny" in md and 'versions: {"taskdiff": "0.1.0"}' in md
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
    study = make_study("tiny", n_tasks=4)
    html_path, md_path = report(study, tmp_path / "out", **FAST)
    for text in (html_path.read_text(), md_path.read_text()):
        assert "Not fitted: " in text
        assert "needs at least 5 intermediate tasks for 3 feature(s)" in text
        assert "The pre-specified multivariable model was not fitted" in text
        assert "smallest possible two-sided permutation p-value is 2/4! = 0.083" in text
    md = md_path.read_text()
    section = md.split("### Pre-specified multivariable model")[1].split("## Predicting")[0]
    assert "| const |" not in section  # no coefficient table for refused models


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
