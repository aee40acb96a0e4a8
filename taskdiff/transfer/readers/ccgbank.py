"""CCGbank AUTO files -> tagging rows (word, lexical category = supertag).

Written by hand because no maintained package reads CCGbank's AUTO format; it is small: each
sentence is a header line ``ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1`` followed by one line
holding the derivation, whose leaves are ``(<L category modPOS origPOS word predarg>)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from taskdiff.errors import DataError

from ._common import read_text, require_rows
from ._registry import register_reader
from taskdiff.errors import ConfigError

_LEAF = re.compile(r"<L (\S+) (\S+) (\S+) (\S+) (\S+)>")


@register_reader("ccgbank_auto")
def read_ccgbank_auto(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read one AUTO file: one row per sentence, ``tokens`` = words, ``tags`` = categories."""
    if options:

        raise ConfigError(f"reader 'ccgbank_auto' takes no options, found {sorted(options)}")
    lines = read_text(path).splitlines()
    rows, sid = [], None
    for number, line in enumerate(lines, start=1):
        if line.startswith("ID="):
            sid = line.split()[0][3:]
            continue
        if not line.strip():
            continue
        if sid is None:
            raise DataError(path, "an 'ID=...' header before each derivation", line, line=number)
        leaves = _LEAF.findall(line)
        if not leaves:
            raise DataError(path, "a derivation with '(<L cat pos pos word predarg>)' leaves", line, line=number)
        rows.append({"id": sid, "tokens": [leaf[3] for leaf in leaves], "tags": [leaf[0] for leaf in leaves]})
        sid = None
    return require_rows(rows, path)
