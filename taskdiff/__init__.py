"""taskdiff: English intermediate tasks, their difficulty, and zero-shot cross-lingual transfer.

Subpackages (dependencies flow one way: ``analysis`` -> ``difficulty`` -> ``transfer``):

- :mod:`taskdiff.transfer` -- tasks, data readers, models, training, zero-shot evaluation,
  the run store and the gains table.
- :mod:`taskdiff.difficulty` -- difficulty measures and :class:`DifficultyProfile`.
- :mod:`taskdiff.analysis` -- correlation, regression, prediction and reports (no torch).
"""

__version__ = "0.1.0"
