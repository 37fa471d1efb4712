"""authorkit: a checked, repeatable pipeline for LLM-written documentation."""

__version__ = "0.1.0"
