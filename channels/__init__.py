"""Rasa input channels: web chat, agent relay, agent console, messaging apps.

Importing any of them (the Rasa server does when it reads credentials.yml) installs the
log filter that keeps personal data out of the Rasa server's log (bot/logging_filters.py)."""

from bot.logging_filters import install_personal_data_filter
from bot.rasa_tracker_store import install_no_in_memory_fallback

install_personal_data_filter()
# before the Rasa server creates its tracker store: no silent in-memory fallback
install_no_in_memory_fallback()
