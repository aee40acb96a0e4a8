"""Up-front checks of the command line: fail in seconds, before any data is read or run started.

Every check raises a :class:`~taskdiff.errors.TaskdiffError` whose message names the option,
the value, what was expected and what was found, so that the CLI prints it as one line and
exits 2 (see ``docs/cli.md``). The checks are:

* :func:`check_data_dir` - ``--data-dir`` (or ``$TASKDIFF_DATA_DIR``) is an existing folder;
* :func:`check_writable` - an output folder or file can be created and written (probed by
  writing a temporary file, which also catches read-only mounts where ``os.access`` lies,
  e.g. for root);
* :func:`check_model` - a model name is built in, an existing model folder, or a hub id
  that is cached (offline) or loadable; a path-like name is never looked up on the hub;
* :func:`parse_params` - ``--param measure.setting=value`` options, validated against the
  measure's declared settings (typed, with "did you mean").
"""

from __future__ import annotations

import inspect
import os
import tempfile
from pathlib import Path
from typing import Iterable

from taskdiff.errors import ConfigError, UnknownNameError
from taskdiff.difficulty.registry import get_measure, known_names
from taskdiff.transfer.models import BUILTIN_MODELS, _check_loadable
from taskdiff.transfer.tasks import get_task, list_tasks

__all__ = ["check_data_dir", "check_model", "check_writable", "is_path_like", "parse_params"]


def check_data_dir(data_dir: str | Path | None, option: str = "--data-dir") -> Path | None:
    """``data_dir`` as a Path, or a one-line error if it is given but is not a folder."""
    if data_dir is None or str(data_dir) == "":
        return None
    path = Path(data_dir).expanduser()
    if not path.exists():
        raise ConfigError(f"{option} {path}: no such directory (expected the data root with xtreme/ and "
                          "intermediate/; set it with --data-dir or $TASKDIFF_DATA_DIR)")
    if not path.is_dir():
        raise ConfigError(f"{option} {path}: expected a directory, found a file")
    return path


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def check_writable(path: str | Path | None, option: str, *, is_file: bool = False) -> None:
    """Refuse an output location that cannot be created or written, before any work.

    Parameters
    ----------
    path : path or None
        The output folder (or file with ``is_file=True``); None: nothing to check.
    option : str
        The option that named it (``--out``, ``--store`` ...), for the message.
    is_file : bool
        ``path`` is a file to be written (its folder must be writable).

    Raises
    ------
    ConfigError
        If ``path`` (or one of its parents) is an existing file where a folder is needed,
        a folder where a file is needed, or its nearest existing folder is not writable.
    """
    if path is None:
        return
    path = Path(path).expanduser()
    if is_file and path.is_dir():
        raise ConfigError(f"{option} {path}: expected a file name, found a directory")
    folder = path.parent if is_file else path
    existing = _first_existing(folder)
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: cannot create it, {existing} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".taskdiff-write-check-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: {existing} is not writable ({exc.strerror or exc})") from None


def is_path_like(name: str) -> bool:
    """Whether a model name is meant as a local path (never a hub id ``org/name``)."""
    return (name.startswith((".", "/", "~")) or name.endswith(("/", os.sep)) or name.count("/") > 1
            or os.sep != "/" and os.sep in name or Path(name).expanduser().exists())


def check_model(name: str | None) -> None:
    """Refuse an unknown model at once: built-in names, model folders and (cached) hub ids pass.

    Offline (``HF_HUB_OFFLINE=1``) the hub is never contacted (only its cache is read); a
    path-like name that does not exist fails without any hub lookup.
    """
    if name is None:
        return
    import difflib


    if name in BUILTIN_MODELS:
        return
    if is_path_like(name) and not Path(name).expanduser().exists():
        close = difflib.get_close_matches(name, BUILTIN_MODELS, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"model {name!r}: expected a built-in model ({', '.join(BUILTIN_MODELS)}), a local model "
                          f"folder or a hub id, found a path that does not exist{hint}")

    _check_loadable(name)


# ----------------------------------------------------------------------------- --param
def _parse_value(text: str):
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def _typed(value, default, where: str):
    """``value`` checked against the type of the setting's default (None: any)."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, found {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, found {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, found {value!r}")
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        return str(value)
    return value


def _settings_of(measure: str) -> dict[str, object]:
    """Setting name -> default of a measure's ``__init__``."""

    klass = get_measure(measure)
    sig = inspect.signature(klass.__init__)
    return {p.name: (None if p.default is inspect.Parameter.empty else p.default)
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def parse_params(items: Iterable[str] | None, measures: Iterable[str] | None = None) -> dict:
    """``["probing.mdl=true", "*.budget.epochs=2"]`` -> ``{"probing": {"mdl": True}, "*": {...}}``.

    Parameters
    ----------
    items : iterable of str
        ``MEASURE.SETTING[.KEY...]=VALUE``; the value is read as YAML (``true``, ``3``,
        ``0.5``, ``[1, 2]``, ``null``, text) and checked against the type of the setting's
        default. ``*`` as the measure gives the setting to every computed measure that has it.
    measures : iterable of str, optional
        The measures that will be computed (default: all known); ``*`` settings are checked
        against these.

    Raises
    ------
    UnknownNameError
        An unknown measure or setting (with the nearest names).
    ConfigError
        A malformed item or a value of the wrong type.
    """

    out: dict = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        parts = [p.strip() for p in key.split(".")]
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(f"--param {item!r}: expected MEASURE.SETTING=VALUE (e.g. probing.mdl=true)")
        measure, setting, rest = parts[0], parts[1], parts[2:]
        if measure == "*":
            names = list(measures or known_names())
            settings = {}
            for m in names:
                settings.update(_settings_of(m))
        elif measure not in known_names():
            raise UnknownNameError("measure", measure, known_names())
        else:
            settings = _settings_of(measure)
        if setting not in settings:
            raise UnknownNameError(f"setting of measure {measure!r} in --param", setting, settings)
        value = _parse_value(text)
        where = f"--param {key}"
        node = out.setdefault(measure, {})
        if not rest:
            node[setting] = _typed(value, settings[setting], where)
            continue
        node = node.setdefault(setting, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{where}: {measure}.{setting} is set as a whole and per key")
        for p in rest[:-1]:
            node = node.setdefault(p, {})
        node[rest[-1]] = value
    return out


def check_languages(languages: list[str] | None, targets: list[str]) -> None:
    """Refuse an evaluation language no target declares, naming the tasks that have it.

    Two-letter codes are too short for string similarity (``ja`` is as close to ``ar`` as to
    anything), so the hint is the list of registered tasks that declare the code, and a
    near code only when it differs by case or is a three-letter form of a declared one.
    """
    if not languages:
        return

    declared = sorted({lang for name in targets for lang in get_task(name).languages})
    for lang in languages:
        if lang in declared:
            continue
        near = [d for d in declared if d.lower() == lang.lower() or (len(lang) == 3 and lang.startswith(d))]
        elsewhere = [t.name for t in list_tasks() if lang in t.languages and t.name not in targets]
        hint = f"; did you mean {near[0]!r}?" if near else ""
        if elsewhere:
            hint += f"; {lang!r} is a language of {', '.join(elsewhere[:6])}"
        raise ConfigError(f"--languages: unknown evaluation language {lang!r}, no target ({', '.join(targets)}) "
                          f"declares it{hint} (known: {', '.join(declared)})")
