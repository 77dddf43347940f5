"""Screens built once and shown again and again (the forms, the small dialogs): showing one again costs only
what changed.

Textual restyles a whole screen each time it is pushed (``ScreenResume(refresh_styles=True)``): for the
log-entry form that walk over every rule and widget was most of the time it took to appear. A reused
screen's styles were worked out when it was built and follow every class and focus change since (Textual
restyles those nodes as they change), so the full pass is needed only when what they are worked out from
has changed: the theme, or the app's style sheet (another screen's CSS loaded meanwhile). Mixed in before
``Screen``; Textual calls each class's ``on_screen_resume`` in method-resolution order, so this runs
before the screen's own handler that restyles.
"""

from __future__ import annotations

from textual import events


class Reused:
    """Mixed into a ``Screen`` the app builds once (``DeskApp.form``) and shows many times."""

    _styled_with: tuple | None = None

    def styled(self) -> None:
        """The screen's styles are up to date now (it was just built: its widgets are styled as they mount)."""
        self._styled_with = self._style_inputs()

    def _style_inputs(self) -> tuple:
        return (self.app.theme, len(self.app.stylesheet.rules))

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        inputs = self._style_inputs()
        if self._styled_with == inputs:
            event.refresh_styles = False  # styled when built, kept up since; theme and style sheet unchanged
        self._styled_with = inputs
