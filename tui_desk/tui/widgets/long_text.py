"""A text area whose text can be written in the agent's own editor (``$VISUAL``, ``$EDITOR``): Ctrl+E.

As posting does, the console steps aside with ``app.suspend()`` (the terminal is the editor's until it
exits; over SSH too), the field's text goes in a private temporary file, and what the editor saved
comes back into the field, where the form's draft keeps it like typed text.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from textual.app import SuspendNotSupported
from textual.binding import Binding
from textual.widgets import TextArea

FALLBACK_EDITORS = ("nano", "vi")


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """``$VISUAL``, then ``$EDITOR`` (each may carry options: ``code --wait``), then nano, then vi."""
    env = os.environ if environ is None else environ
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            return shlex.split(value)
    for fallback in FALLBACK_EDITORS:
        if shutil.which(fallback):
            return [fallback]
    return ["vi"]


class LongText(TextArea):
    """A ``TextArea`` for long text (a log entry's content, a ticket's description)."""

    BINDINGS = [
        Binding("ctrl+e", "external_editor", "Editor", tooltip="Write this text in $EDITOR", id="text.editor"),
    ]

    def action_external_editor(self) -> None:
        if self.read_only:
            return
        command = editor_command()
        handle, name = tempfile.mkstemp(prefix="tui-desk-", suffix=".txt")  # owner-only (0600)
        path = Path(name)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as f:
                f.write(self.text)
            try:
                with self.app.suspend():
                    done = subprocess.run([*command, str(path)], check=False)
            except SuspendNotSupported:
                self.app.notify("This terminal cannot hand itself to an editor", severity="warning", markup=False)
                return
            except OSError as err:
                self.app.notify(f"Cannot start {command[0]}: {err.strerror}", severity="warning", markup=False)
                return
            if done.returncode != 0:
                self.app.notify(
                    f"{command[0]} exited with status {done.returncode}: the text is as it was",
                    severity="warning",
                    markup=False,
                )
                return
            written = path.read_text(encoding="utf-8", errors="replace")
        finally:
            path.unlink(missing_ok=True)
        if written.endswith("\n") and not self.text.endswith("\n"):
            written = written[:-1]  # editors end the file with a newline; the field did not have one
        if written != self.text:
            self.text = written
            self.move_cursor(self.document.end)
        self.focus()
