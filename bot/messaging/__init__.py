"""Plain-Python parts of the messaging-app channels (WeChat, Telegram), without Rasa:
state shared by all server processes, retry de-duplication, the access-token cache,
numbered buttons and platform-prefixed conversation ids."""
