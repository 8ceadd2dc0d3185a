"""Rasa dialogue policies of the project (adapters around plain logic in bot/)."""
