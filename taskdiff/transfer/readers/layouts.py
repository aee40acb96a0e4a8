"""Released-file layouts expressed as data: where each split's file lies and how to read it.

A :class:`Layout` names a folder under the data root (``xtreme/xnli``), one file pattern per
canonical split (``dev-{lang}.tsv``; ``{lang}`` is the language code), a registered reader
and that reader's options. Task configurations can refer to a layout by name instead of
repeating file names and column options; :mod:`.xtreme` and :mod:`.intermediate` hold the
built-in ones. A layout may name its files with other language codes than the task's
(``codes``: LASER's Tatoeba files use ISO 639-3 ``deu`` for ``de``), and
:class:`FirstOf` reads a data set from the first of several layouts that has the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from taskdiff.errors import ConfigError, DataError, UnknownNameError, safe_join
from taskdiff.transfer.schema import SPLITS

from ._registry import get_reader

_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")
_PLACEHOLDER = "{lang}"


@dataclass(frozen=True)
class Layout:
    """One data set's released files.

    Attributes
    ----------
    name : str
        Short name (``xnli``, ``snli``).
    folder : str
        Folder relative to the data root (``xtreme/xnli``, ``intermediate/snli``).
    files : Mapping[str, str]
        Canonical split (``train``, ``validation``, ``test``) → file pattern relative to
        ``folder``; ``{lang}`` stands for the language code. Two splits may share a file
        (XQuAD has one file per language that serves as both validation and test).
    reader : str
        A registered reader name.
    options : Mapping[str, Any]
        Keyword options for the reader.
    codes : Mapping[str, str]
        Language → the code that stands for ``{lang}`` in file names, when the files use
        other codes (``{"de": "deu"}``). With a mapping, only the files of mapped codes
        belong to the layout.
    """

    name: str
    folder: str
    files: Mapping[str, str]
    reader: str
    options: Mapping[str, Any] = field(default_factory=dict)
    codes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))

    @property
    def multilingual(self) -> bool:
        """Whether the file patterns take a language code."""
        return any(_PLACEHOLDER in p for p in self.files.values())

    def path(self, root: str | Path, split: str, language: str = "en") -> Path:
        """The file of ``split`` (and ``language``) under data root ``root``.

        Raises
        ------
        ConfigError
            Unknown split, a split this data set does not have, a malformed language code,
            or a non-English language for an English-only data set.
        """
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r} for {self.name}; splits are {list(SPLITS)}")
        if split not in self.files:
            raise ConfigError(f"{self.name} has no {split!r} split; it has {list(self.files)}")
        if not _LANG.fullmatch(language):
            raise ConfigError(f"language {language!r} is not a language code like 'en' or 'zh'")
        if not self.multilingual and language != "en":
            raise ConfigError(f"{self.name} is English-only; language must be 'en', not {language!r}")
        code = self.codes.get(language, language)
        relative = Path(self.folder) / self.files[split].replace(_PLACEHOLDER, code)
        return safe_join(root, relative)

    def available(self, root: str | Path) -> dict[tuple[str, str], Path]:
        """Every ``(split, language) → path`` of this layout that exists under ``root``."""
        folder = Path(root) / self.folder
        found: dict[tuple[str, str], Path] = {}
        if not folder.is_dir():
            return found
        languages = {code: lang for lang, code in self.codes.items()}
        for split, pattern in self.files.items():
            regex = _pattern_regex(pattern)
            for candidate in sorted(folder.glob(pattern.replace(_PLACEHOLDER, "*"))):
                match = regex.fullmatch(candidate.relative_to(folder).as_posix())
                if match and candidate.is_file():
                    language = match.groupdict().get("lang", "en")
                    if self.codes:
                        language = languages.get(language, "")
                    if _LANG.fullmatch(language):
                        found[(split, language)] = candidate
        return dict(sorted(found.items()))

    def read(self, root: str | Path, split: str, language: str = "en") -> list[dict[str, Any]]:
        """Read ``split`` in ``language`` with this layout's reader and options.

        Raises
        ------
        DataError
            If the file is missing (the message lists the languages present for the
            split) or malformed.
        ConfigError
            See :meth:`path`.
        """
        path = self.path(root, split, language)
        if not path.is_file():
            present = sorted(lang for (s, lang) in self.available(root) if s == split)
            hint = f"; present for {split}: {', '.join(present)}" if present else ""
            raise DataError(path, f"the {self.name} {split} file", f"no such file{hint}")
        return get_reader(self.reader)(path, **dict(self.options))


@dataclass(frozen=True)
class FirstOf:
    """One data set released in several layouts: each file from the first layout that has it.

    Same interface as :class:`Layout` (``name``, ``multilingual``, ``path``, ``available``,
    ``read``). Used for Tatoeba: LASER's line-parallel files first, xtreme's folder second.

    Attributes
    ----------
    name : str
    layouts : tuple of Layout
        In order of preference.
    """

    name: str
    layouts: tuple[Layout, ...]

    @property
    def multilingual(self) -> bool:
        """Whether the file patterns take a language code."""
        return any(layout.multilingual for layout in self.layouts)

    @property
    def folder(self) -> str:
        """The preferred layout's folder."""
        return self.layouts[0].folder

    def path(self, root: str | Path, split: str, language: str = "en") -> Path:
        """The first existing file of ``split`` and ``language`` (the preferred one if none exists)."""
        paths = [layout.path(root, split, language) for layout in self.layouts if split in layout.files]
        if not paths:
            return self.layouts[0].path(root, split, language)  # ConfigError naming the splits
        return next((p for p in paths if p.is_file()), paths[0])

    def available(self, root: str | Path) -> dict[tuple[str, str], Path]:
        """Every ``(split, language) → path`` present, the preferred layout winning."""
        found: dict[tuple[str, str], Path] = {}
        for layout in reversed(self.layouts):
            found.update(layout.available(root))
        return dict(sorted(found.items()))

    def read(self, root: str | Path, split: str, language: str = "en") -> list[dict[str, Any]]:
        """Read ``split`` in ``language`` with the first layout that has the file.

        Raises
        ------
        DataError
            If no layout has the file (the message names every file looked for), or it is
            malformed.
        """
        for layout in self.layouts:
            if split in layout.files and layout.path(root, split, language).is_file():
                return layout.read(root, split, language)
        looked = [str(layout.path(root, split, language)) for layout in self.layouts if split in layout.files]
        present = sorted(lang for (s, lang) in self.available(root) if s == split)
        hint = f"; present for {split}: {', '.join(present)}" if present else ""
        raise DataError(" or ".join(looked) or str(root), f"the {self.name} {split} file",
                        f"no such file{hint}")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Regex for a file pattern; repeated ``{lang}`` must be the same code (``zh-en.dev.zh``)."""
    parts = pattern.split(_PLACEHOLDER)
    out = re.escape(parts[0])
    for i, part in enumerate(parts[1:]):
        out += ("(?P<lang>[^/]+?)" if i == 0 else "(?P=lang)") + re.escape(part)
    return re.compile(out)


def lookup(layouts: Mapping[str, Layout], kind: str, name: str) -> Layout:
    """``layouts[name]`` or an :class:`~taskdiff.errors.UnknownNameError` of ``kind``."""
    try:
        return layouts[name]
    except KeyError:
        raise UnknownNameError(kind, name, layouts) from None
