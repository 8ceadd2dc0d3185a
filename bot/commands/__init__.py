"""Sub-commands of `python -m bot`."""
