"""The console's keys: every binding id with its default keys, key names Textual knows, the agent's keymap.

Every ``Binding`` the console declares has an ``id`` (``queue.log``, ``detail.status``); the ``[keys]``
table of ``config.toml`` maps ids to other keys and the app applies it with Textual's ``set_keymap``,
as posting does. The ids are found by reading the ``BINDINGS`` of every widget and screen class in
``tui_desk.tui``, so a form added later is remappable without being listed anywhere.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import unicodedata
from dataclasses import dataclass
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import KEY_TO_UNICODE_NAME, REPLACED_KEYS, Keys

from tui_desk.config import Config, check_keymap

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


@dataclass(frozen=True)
class KeyBinding:
    """One remappable binding as the defaults declare it."""

    id: str
    keys: str  # Textual's key names, comma-separated: "question_mark,f1"
    description: str
    where: str  # the class that declares it


def _declared(cls: type) -> list[Binding]:
    """The bindings a class declares itself (its own ``BINDINGS``, not inherited ones)."""
    own = cls.__dict__.get("BINDINGS", [])
    return list(Binding.make_bindings(own))


@cache
def known_bindings() -> dict[str, KeyBinding]:
    """Every binding id of the console, with its default keys (from every module of ``tui_desk.tui``)."""
    import tui_desk.tui as package

    found: dict[str, KeyBinding] = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, DOMNode) or not cls.__module__.startswith("tui_desk."):
                continue
            for b in _declared(cls):
                if not b.id:
                    continue
                entry = found.get(b.id)
                keys = b.key if entry is None else ",".join(dict.fromkeys([*entry.keys.split(","), b.key]))
                found[b.id] = KeyBinding(b.id, keys, b.tooltip or b.description, cls.__name__)
    return dict(sorted(found.items()))


def is_key(name: str) -> bool:
    """A key Textual can bind: ``x``, ``?``, ``f5``, ``ctrl+l``, ``shift+tab``, ``question_mark``."""
    *mods, key = name.split("+") if name != "+" else ["+"]
    if any(m not in MODIFIERS for m in mods) or not key:
        return False
    if len(key) == 1:
        return key.isprintable()
    if key in _key_names():
        return True
    name = (REPLACED_KEYS.get(key) or KEY_TO_UNICODE_NAME.get(key, key)).upper()  # "slash" is SOLIDUS
    for spelled in (name.replace("_", " "), name.replace("_", "-")):
        try:
            unicodedata.lookup(spelled)
        except KeyError:
            continue
        return True
    return False


@cache
def _key_names() -> frozenset[str]:
    return frozenset(k.value for k in Keys) | {"space", "tab", "enter", "escape", "backspace", "delete"}


def keymap(config: Config) -> dict[str, str]:
    """The ``[keys]`` of the config, checked against the console's ids and Textual's key names; a saved
    view's own ``key`` moves its slot's binding (``queue.saved_N``) unless ``[keys]`` says otherwise."""
    wanted = {f"queue.saved_{i}": v.key for i, v in enumerate(config.views[:9], start=1) if v.key}
    wanted.update(config.keys)
    if not wanted:
        return {}
    return check_keymap(wanted, {k: b.keys for k, b in known_bindings().items()}, is_key)


def keys_in_force(config: Config) -> dict[str, str]:
    """Every binding id with the keys it has under this config (``tui-desk config`` prints them)."""
    mine = keymap(config)
    return {binding_id: mine.get(binding_id, b.keys) for binding_id, b in known_bindings().items()}
