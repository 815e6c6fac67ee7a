"""Model zoo. Importing this package registers the built-in variants with :mod:`depthforge.registry`."""

from depthforge.models.semattnet import SemAttNet, SemAttNetBackbone

__all__ = ["SemAttNet", "SemAttNetBackbone"]
