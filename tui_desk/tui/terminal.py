"""The console's terminal driver: Textual's Linux driver, made to notice a terminal that went away.

A dropped SSH link or a killed tmux takes the console's terminal with it: the kernel hangs the tty up,
reads return end-of-file (or EIO), writes fail with EIO, and SIGHUP and SIGCONT go to the session.
Textual 8.2.8's driver (``textual/drivers/linux_driver.py``) copes with none of it:

- its writer thread dies on the first EIO; every later write waits for room in the dead thread's
  30-slot queue, and the UI thread sleeps in ``Queue.put`` for ever, often in the exit path itself
  (``disable_input`` turning the mouse off, ``close`` stopping the writer) with the store still open;
- its SIGCONT handler, meant for ``fg`` after Ctrl+Z, starts application mode again on the dead
  terminal: a second writer thread that dies on its first write, and a second input thread;
- its input thread loops on end-of-file (``select`` says readable, ``read`` says nothing), and on EIO
  asks the app to panic, whose traceback then goes to the dead terminal.

This driver makes each of those one event: the first of SIGHUP, end-of-file or an error on input, or an
error on output posts ``TerminalGone`` to the app, once. From then on nothing is written to the terminal
(so nothing can wait on it), no SIGCONT restarts anything, and the input thread has ended.
"""

from __future__ import annotations

import os
import selectors
import signal
import stat
import sys
import termios
import threading
from codecs import getincrementaldecoder

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message


class TerminalGone(Message):
    """The console's terminal went away (``how``: SIGHUP, input or output); the console should leave."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how


class _TerminalOutput:
    """The writer thread's file: the terminal until a write fails or the terminal is gone, then nowhere.

    The writer thread thus never dies, so its queue always drains and no write ever blocks for good."""

    def __init__(self, file, driver: DeskDriver) -> None:
        self._file = file
        self._driver = driver

    def write(self, text: str) -> None:
        if self._driver.terminal_gone:
            return
        try:
            self._file.write(text)
        except (OSError, ValueError):
            self._driver.lose_terminal("output")

    def flush(self) -> None:
        if self._driver.terminal_gone:
            return
        try:
            self._file.flush()
        except (OSError, ValueError):
            self._driver.lose_terminal("output")

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


class DeskDriver(LinuxDriver):
    """Textual's Linux driver that ends cleanly when its terminal vanishes (see the module's text)."""

    def __init__(self, app, **options) -> None:
        super().__init__(app, **options)
        self._gone = threading.Event()
        self._file = _TerminalOutput(sys.__stderr__, self)
        # Installed here, before application mode starts, and restored by close(): SIGHUP is handled
        # synchronously (not through the event loop), so a SIGCONT right behind it finds the flag set.
        self._previous_sighup = None
        try:
            self._previous_sighup = signal.signal(signal.SIGHUP, self._sighup)
        except ValueError:
            pass  # not the main thread: the terminal's end is still noticed on input and output

    @property
    def terminal_gone(self) -> bool:
        return self._gone.is_set()

    def lose_terminal(self, how: str) -> None:
        """Called from any thread (or a signal handler) when the terminal is gone; tells the app once."""
        if self._gone.is_set():
            return
        self._gone.set()
        try:
            self.send_message(TerminalGone(how))
        except RuntimeError:
            pass  # the event loop is closed: the app has ended already

    def _sighup(self, _signum, _frame) -> None:
        self.lose_terminal("SIGHUP")

    def _sigcont_application(self, *args) -> None:
        # After a hang-up SIGCONT comes from the kernel, not from `fg`: there is no terminal to go back to.
        if self._gone.is_set():
            return
        try:
            termios.tcgetattr(self.fileno)
        except termios.error:
            if self.input_tty:
                self.lose_terminal("SIGHUP")
                return
        super()._sigcont_application(*args)

    def write(self, data: str) -> None:
        if self._gone.is_set():
            return  # the exit path's resets go nowhere, at once
        super().write(data)

    def close(self) -> None:
        super().close()
        if self._previous_sighup is not None:
            signal.signal(signal.SIGHUP, self._previous_sighup)
            self._previous_sighup = None

    def run_input_thread(self) -> None:
        """Textual 8.2.8's input loop, except that end-of-file or an error on the terminal ends it."""
        fileno = self.fileno
        selector = selectors.SelectSelector()
        selector.register(fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                for _key, mask in selector.select(0.1):
                    if not mask & selectors.EVENT_READ:
                        continue
                    try:
                        data = os.read(fileno, 1024 * 4)
                    except OSError:  # EIO: the other end of the terminal is closed
                        self.lose_terminal("input")
                        return
                    if not data:
                        if self.input_tty or _is_terminal_device(fileno):  # a terminal at end-of-file hung up
                            self.lose_terminal("input")
                            return
                        selector.unregister(fileno)  # a pipe that ended: nothing more will come
                        break
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()


def _is_terminal_device(fileno: int) -> bool:
    """A character device, even one that no longer answers as a terminal: a tty hung up before the console
    started has ``isatty()`` false (its ioctls fail), but is no pipe at its end."""
    try:
        return stat.S_ISCHR(os.fstat(fileno).st_mode)
    except OSError:
        return True
