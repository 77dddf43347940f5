"""tui-desk: a terminal helpdesk console for refund cases and support tickets."""

__version__ = "0.1.0"
