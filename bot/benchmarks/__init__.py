"""Benchmarks of the assistant's components (NLU: bot.benchmarks.nlu)."""
