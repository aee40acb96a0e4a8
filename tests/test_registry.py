"""taskdiff.registry.Registry: register, get, names, one duplicate rule, did-you-mean, lazy built-ins."""

from __future__ import annotations

import sys
import textwrap
import types
from importlib.metadata import EntryPoint

import pytest

import taskdiff.registry
from taskdiff.errors import ConfigError, DuplicateNameError, UnknownNameError
from taskdiff.registry import Registry


def test_register_get_names_and_mapping_view():
    reg = Registry("colour")
    assert reg.register("red", 1) == 1

    @reg.register("green")
    def green():
        return 2

    assert reg.get("red") == 1 and reg.get("green") is green and reg["green"] is green
    assert reg.names() == ["green", "red"] and list(reg) == ["green", "red"] and len(reg) == 2
    assert "red" in reg and "blue" not in reg and reg.get("blue", None) is None
    assert dict(reg) == {"green": green, "red": 1}


def test_one_duplicate_rule():
    reg = Registry("colour")
    reg.register("red", 1)
    assert reg.register("red", 1) == 1  # the same (equal) object again: a no-op
    with pytest.raises(DuplicateNameError) as info:
        reg.register("red", 2)
    assert str(info.value) == "colour 'red' is already registered; pass overwrite=True to replace it"
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError) and reg.get("red") == 1
    assert reg.register("red", 2, overwrite=True) == 2 and reg.get("red") == 2
    reg.register("blue", f)
    with pytest.raises(DuplicateNameError, match=r"^colour 'blue' is already registered \(.*test_registry\.f\);"):
        reg.register("blue", lambda: None)


def f():
    """A module-level function (the duplicate message names it)."""


def test_unknown_name_suggests_the_nearest():
    reg = Registry("reader")
    for name in ("jsonl", "csv", "tsv"):
        reg.register(name, name.upper())
    with pytest.raises(UnknownNameError) as info:
        reg.get("jsnl")
    assert str(info.value) == "unknown reader 'jsnl'; did you mean 'jsonl'? (known: csv, jsonl, tsv)"
    assert isinstance(info.value, KeyError)
    with pytest.raises(UnknownNameError, match=r"^unknown reader 'xyz' \(known: csv, jsonl, tsv\)$"):
        reg["xyz"]


def test_callable_builtins_load_once_and_before_any_registration():
    calls = []

    def load():
        calls.append(1)
        reg.register("a", "built-in")

    reg = Registry("thing", builtins=load)
    assert calls == []  # lazy: nothing loaded at construction
    with pytest.raises(DuplicateNameError):
        reg.register("a", "mine")  # the built-in is loaded first, so the rule applies to it
    assert reg.get("a") == "built-in" and reg.names() == ["a"] and "a" in reg and calls == [1]


def test_a_failing_builtin_loader_is_retried():
    calls = []

    def load():
        calls.append(1)
        raise RuntimeError("broken")

    reg = Registry("thing", builtins=load)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="broken"):
            reg.names()
    assert calls == [1, 1]


def test_module_builtins_by_name_are_imported_only_when_asked(tmp_path, monkeypatch):
    holder = types.ModuleType("td_reg_holder")
    holder.REG = Registry("widget", builtins={"gear": "td_reg_gear", "cog": "td_reg_cog"})
    monkeypatch.setitem(sys.modules, "td_reg_holder", holder)
    (tmp_path / "td_reg_gear.py").write_text(textwrap.dedent("""
        import td_reg_holder
        LOADS = getattr(td_reg_holder, "LOADS", 0) + 1
        td_reg_holder.LOADS = LOADS
        td_reg_holder.REG.register("gear", "a gear")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = holder.REG
    assert reg.names() == ["cog", "gear"] and "td_reg_gear" not in sys.modules  # listed, not imported
    assert reg.get("gear") == "a gear" and reg.get("gear") == "a gear" and holder.LOADS == 1
    monkeypatch.delitem(sys.modules, "td_reg_gear")


def test_entry_points_are_listed_then_loaded_on_demand(tmp_path, monkeypatch):
    (tmp_path / "td_reg_plugin.py").write_text("def sprocket():\n    return 'sprocket'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    good = EntryPoint(name="sprocket", value="td_reg_plugin:sprocket", group="td.widgets")
    broken = EntryPoint(name="broken", value="td_reg_no_such_module:x", group="td.widgets")
    monkeypatch.setattr(taskdiff.registry, "entry_points",
                        lambda group: [good, broken] if group == "td.widgets" else [])
    reg = Registry("widget", group="td.widgets")
    reg.register("cog", print)
    assert reg.names() == ["broken", "cog", "sprocket"] and "td_reg_plugin" not in sys.modules
    assert reg.get("sprocket")() == "sprocket" and "td_reg_plugin" in sys.modules
    with pytest.raises(ConfigError, match=r"widget 'broken': entry point 'td_reg_no_such_module:x' of group "
                                          r"'td.widgets' failed to load: ModuleNotFoundError"):
        reg.get("broken")
    monkeypatch.delitem(sys.modules, "td_reg_plugin")


def test_the_six_registries_share_the_class_and_the_rule():
    from taskdiff.difficulty.registry import MEASURES
    from taskdiff.study.executors import _EXECUTORS, register_executor
    from taskdiff.transfer.formats.base import _FORMATS
    from taskdiff.transfer.metrics import METRICS, register_metric
    from taskdiff.transfer.readers import READERS
    from taskdiff.transfer.tasks.registry import TASKS

    for reg in (MEASURES, TASKS, READERS, METRICS, _FORMATS, _EXECUTORS):
        assert isinstance(reg, Registry) and reg.names()
    assert {"size", "vinfo"} <= set(MEASURES) and {"xnli", "snli"} <= set(TASKS)
    assert _FORMATS.names() == ["classification", "extractive_qa", "multiple_choice", "pair_classification",
                                "regression", "retrieval", "tagging"]
    assert _EXECUTORS.names() == ["gpu-pool", "local", "ray", "slurm"]
    with pytest.raises(DuplicateNameError):
        register_executor("local", print)
    with pytest.raises(DuplicateNameError):
        register_metric("accuracy", primary="accuracy")(print)
