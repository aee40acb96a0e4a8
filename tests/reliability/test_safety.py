"""Security rules: safetensors only, no code from data or the hub, no path escapes.

Protections under test: :func:`taskdiff.transfer.models.save_encoder` and
``save_pretrained`` (safetensors), the ``trust_remote_code`` plumbing from the CLI flag to
every ``from_pretrained`` call, ``yaml.safe_load`` for task files, and
:func:`taskdiff.errors.safe_join` for every path a user's task file names. The static
checks scan the package sources, so a new unsafe call anywhere fails them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from taskdiff.transfer.models import TINY_VERSION

TINY_DIR = f"tiny-bert-v{TINY_VERSION}"

import taskdiff
from taskdiff.errors import TaskdiffError

from .conftest import assert_one_line_error, run_cli

PACKAGE = Path(taskdiff.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz", ".h5", ".msgpack"}


def _calls(path: Path):
    """(dotted name, ast.Call) of every call in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield _dotted(node.func), node


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _kw(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


# --------------------------------------------------------------------------- the saved models
def test_store_holds_safetensors_weights_and_no_pickles(finished_study):
    store = finished_study.store
    files = [p for p in store.rglob("*") if p.is_file()]
    assert files
    model_dirs = sorted({p.parent for p in files if p.name == "config.json" and p.parent.name in
                         ("encoder", "model", TINY_DIR)})
    assert {d.name for d in model_dirs} == {"encoder", "model", TINY_DIR}
    for d in model_dirs:
        assert (d / "model.safetensors").is_file(), d
    offenders = [p for p in files if p.suffix in PICKLE_SUFFIXES]
    assert not offenders, offenders
    for p in files:  # by content too: no pickle stream, no torch.save zip archive
        head = p.read_bytes()[:4]
        assert not (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")), p
        assert head != b"PK\x03\x04", p
    assert not list(store.glob("runs/*/checkpoints")), "finished runs keep no resumption state"


def test_saved_weights_load_with_safetensors(finished_study):
    from safetensors.torch import load_file

    for path in finished_study.store.glob("runs/*/*/model.safetensors"):
        tensors = load_file(str(path))
        assert tensors and all(t.isfinite().all() for t in tensors.values())


# --------------------------------------------------------------------------- static source checks
def test_torch_load_is_only_used_with_weights_only():
    offenders = []
    for path in SOURCES:
        for name, call in _calls(path):
            if name.endswith("torch.load"):
                value = _kw(call, "weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
        if re.search(r"from torch(\.serialization)? import .*\bload\b", path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE)}: imports torch's load by name")
    assert not offenders, f"torch.load without weights_only=True: {offenders}"


UNSAFE_CALLS = re.compile(r"^(eval|exec|compile|__import__|pickle\.loads?|cPickle\.loads?|dill\.loads?|"
                          r"marshal\.loads?|shelve\.open|joblib\.load|yaml\.load|yaml\.unsafe_load|"
                          r"yaml\.full_load|yaml\.load_all|yaml\.unsafe_load_all|jsonpickle\.decode|"
                          r"os\.system|os\.popen|os\.exec\w*|os\.spawn\w*)$")


def test_no_code_execution_from_data():
    """Nothing in the package evaluates or unpickles data or runs a shell; YAML only via safe_load."""
    offenders = []
    for path in SOURCES:
        for name, call in _calls(path):
            if UNSAFE_CALLS.match(name):
                offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno}: {name}")
            if name.startswith("subprocess.") and _kw(call, "shell") is not None:  # argv lists only, no shell
                offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno}: {name}(shell=...)")
            if name.endswith("np.load") or name.endswith("numpy.load"):
                value = _kw(call, "allow_pickle")
                if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno}: np.load(allow_pickle=...)")
        text = path.read_text(encoding="utf-8")
        for token in ("yaml.Loader", "yaml.UnsafeLoader", "yaml.FullLoader", "import pickle", "from pickle",
                      "import dill", "import marshal"):
            if token in text:
                offenders.append(f"{path.relative_to(PACKAGE)}: {token}")
    assert not offenders, offenders
    assert any("yaml.safe_load" in p.read_text() for p in SOURCES)


def test_trust_remote_code_is_never_hard_wired_on():
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                if isinstance(node.value, ast.Constant) and node.value.value is not False:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.value.lineno}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + list(node.args.defaults) \
                    + list(node.args.kw_defaults)
                for arg, default in zip(args, defaults):
                    if isinstance(default, ast.Call) and _dotted(default.func).endswith("Option") and default.args:
                        default = default.args[0]  # typer.Option(False, ...)
                    if arg.arg == "trust_remote_code" and default is not None and not (
                            isinstance(default, ast.Constant) and default.value is False):
                        offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} default")
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "trust_remote_code":
                if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} field default")
    assert not offenders, offenders


# --------------------------------------------------------------------------- trust_remote_code at run time
class _Stop(TaskdiffError):
    """Raised by the recording from_pretrained once the model is requested: no training needed."""


@pytest.mark.parametrize("flag", [False, True])
def test_trust_remote_code_follows_the_cli_flag(tmp_path, fixture_data, monkeypatch, flag):
    import transformers

    calls = []
    tok_from_pretrained = transformers.AutoTokenizer.from_pretrained

    def record_tokenizer(path, *args, **kwargs):
        calls.append(("tokenizer", kwargs.get("trust_remote_code")))
        return tok_from_pretrained(path, *args, **kwargs)

    def record_model(path, *args, **kwargs):
        calls.append(("model", kwargs.get("trust_remote_code")))
        raise _Stop("stopped after from_pretrained")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", record_tokenizer)
    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", record_model)
    args = ["transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--languages", "de",
            "--seeds", "1", "--data-dir", fixture_data, "--max-examples", "12", "--store", tmp_path / "s",
            "--out", tmp_path / "o", "--quiet"] + (["--trust-remote-code"] if flag else [])
    assert_one_line_error(run_cli(*args), "stopped after from_pretrained")
    assert calls == [("tokenizer", flag), ("model", flag)]


@pytest.mark.parametrize("flag", [False, True])
def test_evaluation_and_retrieval_loads_pass_the_flag(finished_study, monkeypatch, flag):
    import transformers

    from taskdiff.transfer import phases, retrieval_eval
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    calls = []
    tok_from_pretrained = transformers.AutoTokenizer.from_pretrained

    def record_tokenizer(path, *args, **kwargs):
        calls.append(("tokenizer", kwargs.get("trust_remote_code")))
        return tok_from_pretrained(path, *args, **kwargs)

    def record(kind):
        def fn(path, *args, **kwargs):
            calls.append((kind, kwargs.get("trust_remote_code")))
            raise _Stop(kind)
        return fn

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", record_tokenizer)
    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", record("classifier"))
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", record("encoder"))
    ws = Workspace(RunStore(finished_study.store), finished_study.data, 12, progress=False, trust_remote_code=flag)
    model = next(finished_study.store.glob("runs/target-*/model"))
    with pytest.raises(_Stop):
        phases._evaluate(ws, get_task("xnli"), str(model), "de")
    with pytest.raises(_Stop):
        retrieval_eval._encoder(str(model), ws.trust_remote_code)
    assert calls == [("tokenizer", flag), ("classifier", flag), ("encoder", flag)]


# --------------------------------------------------------------------------- task-file paths
def _user_task(tmp_path: Path, files: str, name: str = "rel_paths") -> Path:
    (tmp_path / "tasks" / "data").mkdir(parents=True, exist_ok=True)
    rows = "".join(f'{{"text": "t{i}", "label": "{"ab"[i % 2]}"}}\n' for i in range(4))
    for f in ("train-en.jsonl", "test-en.jsonl", "test-de.jsonl"):
        (tmp_path / "tasks" / "data" / f).write_text(rows)
    (tmp_path / "secret").mkdir(exist_ok=True)
    for f in ("train-en.jsonl", "test-en.jsonl", "test-de.jsonl"):
        (tmp_path / "secret" / f).write_text(rows)
    path = tmp_path / "tasks" / f"{name}.yaml"
    path.write_text(f"name: {name}\nformat: classification\nlabels: [a, b]\nrole: target\nlanguages: [en, de]\n"
                    f"local: {{root: data, reader: jsonl, files: {files}, "
                    "options: {columns: {text: text, label: label}}}\n")
    return path


@pytest.mark.parametrize("files", [
    "{train: '../../secret/train-{lang}.jsonl', test: 'test-{lang}.jsonl'}",
    "{train: '../../secret/*.jsonl', test: 'test-{lang}.jsonl'}",
    "{train: 'SECRET/train-{lang}.jsonl', test: 'test-{lang}.jsonl'}",  # SECRET: an absolute path, below
])
def test_file_patterns_cannot_escape_the_task_directory(tmp_path, files):
    from taskdiff.errors import ConfigError
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import register_task_file

    files = files.replace("SECRET", str(tmp_path / "secret"))
    task = register_task_file(_user_task(tmp_path, files))
    for role, lang in (("train", "en"), ("evaluation", "de")):  # planning looks at every split
        with pytest.raises(ConfigError, match=r"rel_paths', files\['train'\]: path .*(escapes its base "
                                              r"directory|must be relative)"):
            load_role(task, role, lang)


def test_language_cannot_smuggle_a_path(tmp_path):
    from taskdiff.errors import ConfigError
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import register_task_file

    task = register_task_file(_user_task(tmp_path, "{train: 'train-{lang}.jsonl', test: '{lang}/test.jsonl'}"))
    for lang in ("en", "de"):
        (tmp_path / "tasks" / "data" / lang).mkdir()
        (tmp_path / "tasks" / "data" / lang / "test.jsonl").write_text('{"text": "t", "label": "a"}\n')
    (tmp_path / "secret" / "test.jsonl").write_text('{"text": "secret", "label": "a"}\n')
    assert load_role(task, "evaluation", "de").rows[0]["text"] == "t"
    with pytest.raises(ConfigError, match="escapes its base directory"):
        load_role(task, "evaluation", "../../secret")


def test_symlink_out_of_the_task_directory_is_refused(tmp_path):
    from taskdiff.errors import ConfigError
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import register_task_file

    task = register_task_file(_user_task(tmp_path, "{train: 'link-{lang}.jsonl', test: 'test-{lang}.jsonl'}"))
    (tmp_path / "tasks" / "data" / "link-en.jsonl").symlink_to(tmp_path / "secret" / "train-en.jsonl")
    with pytest.raises(ConfigError, match="escapes its base directory"):
        load_role(task, "train", "en")


def test_escaping_pattern_through_the_cli_is_one_line(tmp_path, fixture_data):
    path = _user_task(tmp_path, "{train: '../../secret/train-{lang}.jsonl', test: 'test-{lang}.jsonl'}",
                      name="rel_paths_cli")
    result = run_cli("transfer", "--model", "tiny", "--intermediate", "snli", "--target", "rel_paths_cli",
                     "--languages", "de", "--seeds", "1", "--data-dir", fixture_data, "--store", tmp_path / "s",
                     "--out", tmp_path / "o", "--quiet", "--task-file", path)
    assert_one_line_error(result, "escapes its base directory")
    assert not (tmp_path / "s" / "runs").exists() or not any((tmp_path / "s" / "runs").iterdir())
