"""The human agents' side: accounts and logins, the queue and conversation views, notes and
the dashboard. Plain Python over the orders/tickets database; the HTTP adapter is
`channels/console.py`."""
