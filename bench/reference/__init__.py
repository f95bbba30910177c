"""Python reference pipeline: the engine's lite-profile search done the straightforward way
(onnxruntime with default session options, Pillow, numpy), to race the Rust engine and to check that
both return the same top-10. See bench/README.md ("Reference pipeline and race")."""

from .pipeline import STAGES, Reference

__all__ = ["Reference", "STAGES"]
