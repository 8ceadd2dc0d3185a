"""The after-sales domain in plain Python (no Rasa, no database): the shared vocabulary, the ticket model
and its events, the order interchange model."""
