"""Rasa graph components that adapt bot.nlu (normalisation, entities, lexicon features)."""
