"""taskdiff.analysis must never import torch or transformers."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import pkgutil, importlib, sys
import taskdiff.analysis as A
for name in A.__all__:
    getattr(A, name)
for mod in pkgutil.walk_packages(A.__path__, prefix="taskdiff.analysis."):
    importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
print("LOADED", bad)
sys.exit(1 if bad else 0)
"""


def test_analysis_imports_without_torch():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LOADED []" in proc.stdout


def test_public_names_resolve():
    import taskdiff.analysis as A
    assert callable(A.load_study) and callable(A.write_report)
    assert "GainPredictor" in dir(A)
