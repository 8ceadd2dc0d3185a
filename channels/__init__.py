"""Rasa input channels: web chat, agent relay, agent console, messaging apps."""
