"""User-defined probes read from a CoNLL-U treebank: sentence-level from comments, token-level
from the MISC column.

A treebank can carry probes of its own. A **sentence-level** probe is one comment per probe
and sentence::

    # sent_id = 12
    # probe.subj_category.semantic = animal
    # probe.rel_attachment.syntactic = obj
    1   the   ...

``# probe.<name>.<group> = <label>`` gives sentence ``12`` label ``animal`` in probe
``subj_category`` of group ``semantic``. A **token-level** probe is a ``key=value`` entry of
the MISC column (the tenth), which CoNLL-U reserves for any other annotation::

    3   ran   run   VERB   _   Tense=Past   0   root   _   probe.polarity.semantic=up|SpaceAfter=No

gives word 3 label ``up`` in probe ``polarity``. In both, ``<name>`` is a Python-style
identifier (letters, digits, underscores), ``<group>`` one of ``syntactic``, ``semantic``,
``surface``; the label is any non-empty string (``_`` means "no label", as a missing entry
does). Sentences (words) without the entry are not examples of the probe. A custom probe
goes through the same ``min_examples`` / single-class check, sentence-level train/test
split and subsampling as the built-in ones; a token-level one is fitted on word states like
``upos`` (with a control task when ``control`` is on). A name is one probe: one group and
one level in the whole treebank. See ``docs/difficulty/probing-custom-probes.md``.
"""

from __future__ import annotations

import re

from taskdiff.errors import DataError

PREFIX = "probe."
GROUPS = ("syntactic", "semantic", "surface")
_KEY = re.compile(r"^probe\.([A-Za-z_][A-Za-z0-9_]*)\.([a-z]+)$")


def parse_probe_comments(metadata: dict | None, where: str = "a sentence") -> dict:
    """``{name: (group, label)}`` of the ``probe.<name>.<group>`` entries of one sentence's
    comments (or, the same syntax, of one word's MISC column)."""
    out: dict = {}
    for key, value in (metadata or {}).items():
        if not key.startswith(PREFIX):
            continue
        m = _KEY.match(key)
        if m is None or m.group(2) not in GROUPS:
            raise DataError(where, f"probe entries 'probe.<name>.<group> = <label>' with group in {GROUPS}",
                            f"entry {key!r}")
        name, group = m.groups()
        if name in out:
            raise DataError(where, "one label per probe and sentence", f"probe {name!r} given twice")
        label = (value or "").strip() if isinstance(value, str) else ""
        if label and label != "_":
            out[name] = (group, label)
    return out


def parse_token_probes(miscs: list, where: str = "a sentence") -> dict:
    """``{name: (group, {word position: label})}`` from the MISC dicts of a sentence's words."""
    out: dict = {}
    for j, misc in enumerate(miscs):
        for name, (group, label) in parse_probe_comments(misc, f"{where}, word {j + 1}").items():
            grp, labels = out.setdefault(name, (group, {}))
            if grp != group:
                raise DataError(f"{where}, word {j + 1}", f"one group per probe ({name!r} is {grp!r})",
                                f"group {group!r}")
            labels[j] = label
    return out


def custom_groups(sents, builtin=()) -> dict:
    """``{name: (group, level)}`` of the custom probes of some sentences (``_Sent`` with
    ``custom`` and ``token_custom``), in order of first appearance; a name used with two
    groups or at both levels, or shadowing a built-in, is an error."""
    groups: dict = {}
    for i, s in enumerate(sents):
        entries = [(n, g, "sentence") for n, (g, _) in s.custom.items()]
        entries += [(n, g, "token") for n, (g, _) in s.token_custom.items()]
        for name, group, level in entries:
            if name in builtin:
                raise DataError(f"sentence {i}", "custom probe names distinct from the built-in probes",
                                f"custom probe {name!r}")
            known = groups.setdefault(name, (group, level))
            if known[0] != group:
                raise DataError(f"sentence {i}", f"one group per probe ({name!r} is {known[0]!r})",
                                f"group {group!r}")
            if known[1] != level:
                raise DataError(f"sentence {i}", f"one level per probe ({name!r} is {known[1]}-level)",
                                f"a {level}-level entry")
    return groups


def token_rows(sents, word_labels) -> dict:
    """The example lists of a token-level probe (see ``Probe``): every sentence with at least
    one labelled word, ``word_labels(sent) -> [(word position, label), ...]``."""
    res = {k: [] for k in ("sentences", "labels", "sentence_index", "word_index", "word_types", "meta")}
    for i, s in enumerate(sents):
        vals = word_labels(s)
        if not vals:
            continue
        k = len(res["sentences"])
        res["sentences"].append(list(s.forms))
        res["meta"].append({"source": i})
        for j, label in vals:
            res["labels"].append(label)
            res["sentence_index"].append(k)
            res["word_index"].append(j)
            res["word_types"].append(s.forms[j].lower())
    return res


def custom_builder(name: str, level: str = "sentence"):
    """Builder (``sents, cfg, rng -> dict``) of custom probe ``name`` at ``level``."""
    def sentence(sents, cfg, rng):
        rows = [(i, s, s.custom[name][1]) for i, s in enumerate(sents) if name in s.custom]
        return dict(sentences=[list(s.forms) for _, s, _ in rows], labels=[lab for *_, lab in rows],
                    sentence_index=list(range(len(rows))), meta=[{"source": i} for i, _, _ in rows])

    def token(sents, cfg, rng):
        return token_rows(sents, lambda s: sorted(s.token_custom[name][1].items()) if name in s.token_custom else [])

    return token if level == "token" else sentence
