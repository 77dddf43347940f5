"""The one error type the rules and the store raise for bad input: its message is one line for the user."""


class DeskError(Exception):
    """A refusal the user can act on; ``str(err)`` is a one-line message naming what is wrong."""
