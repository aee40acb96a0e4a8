"""Canonical example rows, one schema per task format.

Every reader returns a list of ``dict`` rows in the schema of its format; everything
downstream (tokenisation, training, metrics, difficulty measures) relies on these names
only. The format declares its schema (:attr:`TaskFormat.columns
<taskdiff.transfer.formats.TaskFormat.columns>` and :meth:`TaskFormat.check_row
<taskdiff.transfer.formats.TaskFormat.check_row>`); the table lists the built-ins. Each row has a string ``id`` that is stable across languages for translated data
sets (the same English item has the same id in every language), which the zero-shot
split rule relies on.

========================  ==========================================================
format                    columns
========================  ==========================================================
``classification``        ``id``, ``text``, ``label`` (str, one of the task's labels)
``pair_classification``   ``id``, ``text_a``, ``text_b``, ``label`` (str)
``regression``            ``id``, ``text_a``, ``text_b``, ``label`` (float, finite; STS-B 0-5)
``tagging``               ``id``, ``tokens`` (list[str]), ``tags`` (list[str])
``extractive_qa``         ``id``, ``context``, ``question``, ``answers`` =
                          ``{"text": list[str], "answer_start": list[int]}``
``multiple_choice``       ``id``, ``context`` (may be ""), ``question``,
                          ``choices`` (list[str]), ``label`` (int, index of the gold choice)
``retrieval``             ``id``, ``text``, ``side`` ("source" or "target"), ``gold``
                          (id of the aligned row on the other side, "" if none)
========================  ==========================================================
"""

from __future__ import annotations

SPLITS = ("train", "validation", "test")
