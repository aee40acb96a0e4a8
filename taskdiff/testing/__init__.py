"""Test helpers that ship with the package: project-made fixture data in the real layouts."""

from __future__ import annotations

from .fixtures import make_fixture_data_dir

__all__ = ["make_fixture_data_dir"]
