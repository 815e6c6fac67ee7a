"""Helpers for tests and parity checks against the reference fixtures."""

from depthforge.testing.weights import fill_state_dict, synthetic_value, written_keys

__all__ = ["fill_state_dict", "synthetic_value", "written_keys"]
