"""Rasa SDK custom actions: thin adapters that read slots, call `bot`, and return events.

Every text a buyer sees is a response in domain.yml; actions only pick the response and
fill in its values.
"""
