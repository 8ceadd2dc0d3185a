"""Chinese NLU text logic in pure Python: normalisation, identifiers, lexicon entities.
Rasa components in bot/rasa_nlu adapt these; nothing here imports Rasa."""
