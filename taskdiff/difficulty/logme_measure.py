"""``logme``: LogME (You et al. 2021) of the task's labels on frozen base-encoder features.

Features are the base encoder's states at ``layer`` (default: the last), from the shared
hidden-state cache (:mod:`~taskdiff.difficulty.hidden`):

* classification and sentence pairs: the mean of the real token states (``pooling="mean"``,
  default; special tokens and padding excluded) or the first token ([CLS] / <s>,
  ``pooling="cls"``); targets are the labels (one-vs-rest evidence, averaged);
* tagging: one feature per word (its first sub-word by default, ``word_pooling``), target
  the word's tag;
* multiple choice: one feature per (context + question, choice) pair, target 1 for the gold
  choice and 0 otherwise (the binary task a choice scorer solves);
* regression (STS-B): the pair's pooled feature, target the real-valued score itself:
  LogME's Bayesian linear model is a regression model, so the score is used as it is
  (:func:`~taskdiff.difficulty.maths.logme_regression`, one target column, as You et al.
  do for regression tasks); ``n_classes`` is None;
* extractive QA: not defined (answers are spans); ``logme`` is None.

LogME is :func:`~taskdiff.difficulty.maths.logme`: the maximised log evidence per example
(nats) of a Bayesian linear model, maximised exactly also when N < D (more feature
dimensions than rows, where the paper's fixed-point iteration runs away; see the maths
module). Higher means the frozen features fit the labels better,
i.e. the task is *easier* for this encoder. Compare it across tasks with care: it depends on
the number of classes and on N (You et al. compare models on one task).
"""

from __future__ import annotations

import numpy as np

from taskdiff.difficulty.base import ENGLISH, Measure, finite_or_none
from taskdiff.difficulty.budget import cap_rows
from taskdiff.difficulty.maths import logme, logme_regression
from taskdiff.difficulty.registry import register_measure
from taskdiff.errors import ConfigError
from taskdiff.schema import format1_features
from taskdiff.transfer.formats import get_format
from taskdiff.difficulty.hidden import PrecisionMixin


def task_segments(fmt: str, rows: list[dict]) -> tuple[list, bool]:
    """What the encoder reads of each row: ``(segments, are_word_lists)``.

    The format's ``segment`` of every row: a text (classification), ``[text_a, text_b]``
    (pairs), ``[context + question, all choices]`` (multiple choice), ``[question, context]``
    (QA), a word list (tagging, whose ``split_into_words`` is True).
    """
    form = get_format(fmt)
    return [form.segment(r) for r in rows], form.split_into_words


@register_measure
class LogME(PrecisionMixin, Measure):
    """LogME of the task's labels on frozen features of the base encoder.

    Parameters
    ----------
    pooling : {"mean", "cls"}
    layer : int
        Hidden layer (0 = embeddings, -1 = last).
    max_examples : int, optional
        Cap on training rows (first ids in hash order).
    word_pooling : {"first", "mean"}
        Tagging: a word's feature is its first sub-word or the mean of its sub-words.
    max_length, batch_size : int
    precision : {"auto", "fp32", "bf16", "fp16"}
        Of the hidden-state pass (:func:`~taskdiff.difficulty.hidden.resolve_hidden_precision`).

    Attributes
    ----------
    result_ : dict
        ``logme`` (nats per example), ``n``, ``n_classes``, ``layer``, ``pooling``.
    features_shape_ : tuple
    """

    name = "logme"
    higher_is_harder = False
    features = format1_features("logme")

    def __init__(self, pooling: str = "mean", layer: int = -1, max_examples: int | None = 2000,
                 word_pooling: str = "first", max_length: int = 256, batch_size: int = 32, precision: str = "auto"):
        self.pooling = pooling
        self.layer = layer
        self.max_examples = max_examples
        self.word_pooling = word_pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision

    def _fit(self, task, model, context, cost):
        if self.pooling not in ("mean", "cls"):
            raise ConfigError(f"pooling must be 'mean' or 'cls', found {self.pooling!r}")
        rows = cap_rows(context.rows(task, "train", ENGLISH).rows, self.max_examples)
        base = {"layer": self.layer, "pooling": self.pooling, "n_rows": len(rows)}
        fmt = get_format(task.format)
        probe = fmt.frozen_targets(rows)
        if probe is None:
            self.features_shape_ = None
            self.result_ = {"logme": None, "n": 0, "n_classes": None, **base,
                            "notes": [f"LogME is not defined for {fmt.display_name()} ({fmt.unlabelled_because})"]}
            return
        segments, labels = probe
        path, encoder = context.model_path(model), f"base:{model}"
        get = dict(max_length=self.max_length, batch_size=self.batch_size, progress=context.progress,
                   trust_remote_code=context.trust_remote_code, cost=cost, layers=[self.layer],
                   precision=self.precision)
        if fmt.split_into_words:  # one feature per word
            states = context.hidden.get(path, encoder, segments, words=True, word_pooling=self.word_pooling, **get)
            keep = states.word_mask
            feats = states.words[states.layer_index(self.layer)][keep]
            labels = np.array(labels)[keep]
        else:
            labels = np.array(labels)
            states = context.hidden.get(path, encoder, segments, words=False, **get)
            which = states.pooled if self.pooling == "mean" else states.first
            feats = which[states.layer_index(self.layer)]
        self.features_shape_ = tuple(feats.shape)
        continuous = fmt.continuous_target
        if continuous:  # a real-valued target: LogME's own (regression) evidence
            labels = labels.astype(np.float64)
            score = logme_regression(feats, labels) if np.ptp(labels) > 0 else float("nan")
        else:
            score = logme(feats, labels) if len(np.unique(labels)) > 1 else float("nan")
        self.result_ = {"logme": finite_or_none(score), "n": int(len(labels)),
                        "n_classes": None if continuous else int(len(np.unique(labels))), **base,
                        "target": "regression" if continuous else "classes",
                        "hidden_run": states.run_id, "precision": states.precision}
