"""The Textual console: the queue, ticket-detail and log-entry screens (see ``app.py``)."""
