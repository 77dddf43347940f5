"""The case store: Peewee models over SQLite, schema versions, and the transactional operations."""

from tui_desk.store.operations import Store, TicketChanged

__all__ = ["Store", "TicketChanged"]
