"""Difficulty measures of a task and the :class:`DifficultyProfile` that gathers them."""
