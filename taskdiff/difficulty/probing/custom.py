"""User-defined sentence-level probes read from CoNLL-U sentence comments.

A treebank can carry probes of its own, one comment per probe and sentence::

    # sent_id = 12
    # probe.subj_category.semantic = animal
    # probe.rel_attachment.syntactic = obj
    1   the   ...

``# probe.<name>.<group> = <label>`` gives sentence ``12`` label ``animal`` in probe
``subj_category`` of group ``semantic``. ``<name>`` is a Python-style identifier
(letters, digits, underscores), ``<group>`` one of ``syntactic``, ``semantic``,
``surface``; the label is any non-empty string (``_`` means "no label", as a missing
comment does). Sentences without the comment are not examples of the probe. A custom
probe is a sentence-level probe like the built-in ones: the example is the sentence's
words, and it goes through the same ``min_examples`` / single-class check, the same
sentence-level train/test split and subsampling. See ``docs/difficulty/probing-custom-probes.md``.
"""

from __future__ import annotations

import re

from taskdiff.errors import DataError

PREFIX = "probe."
GROUPS = ("syntactic", "semantic", "surface")
_KEY = re.compile(r"^probe\.([A-Za-z_][A-Za-z0-9_]*)\.([a-z]+)$")


def parse_probe_comments(metadata: dict | None, where: str = "a sentence") -> dict:
    """``{name: (group, label)}`` of the ``probe.<name>.<group>`` comments of one sentence."""
    out: dict = {}
    for key, value in (metadata or {}).items():
        if not key.startswith(PREFIX):
            continue
        m = _KEY.match(key)
        if m is None or m.group(2) not in GROUPS:
            raise DataError(where, f"probe comments '# probe.<name>.<group> = <label>' with group in {GROUPS}",
                            f"comment {key!r}")
        name, group = m.groups()
        if name in out:
            raise DataError(where, "one label per probe and sentence", f"probe {name!r} given twice")
        label = (value or "").strip()
        if label and label != "_":
            out[name] = (group, label)
    return out


def custom_groups(sents, builtin=()) -> dict:
    """``{name: group}`` of the custom probes of some sentences (``_Sent`` with ``custom``), in
    order of first appearance; a name used with two groups or shadowing a built-in is an error."""
    groups: dict = {}
    for i, s in enumerate(sents):
        for name, (group, _) in s.custom.items():
            if name in builtin:
                raise DataError(f"sentence {i}", "custom probe names distinct from the built-in probes",
                                f"custom probe {name!r}")
            if groups.setdefault(name, group) != group:
                raise DataError(f"sentence {i}", f"one group per probe ({name!r} is {groups[name]!r})",
                                f"group {group!r}")
    return groups


def custom_builder(name: str):
    """Builder (``sents, cfg, rng -> dict``) of custom probe ``name``."""
    def build(sents, cfg, rng):
        rows = [(i, s, s.custom[name][1]) for i, s in enumerate(sents) if name in s.custom]
        return dict(sentences=[list(s.forms) for _, s, _ in rows], labels=[lab for *_, lab in rows],
                    sentence_index=list(range(len(rows))), meta=[{"source": i} for i, _, _ in rows])
    return build
