"""tui-desk: a terminal helpdesk console for refund cases and support tickets."""

__version__ = "0.1.0"

import logging as _logging

# Nothing is logged anywhere unless `--log FILE` adds a handler (tui_desk/cli/errorlog.py).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
