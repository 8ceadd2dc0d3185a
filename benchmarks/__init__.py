"""Benchmarks of the assistant's components (NLU: benchmarks.nlu)."""
