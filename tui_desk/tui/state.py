"""What the console remembers between runs (the theme, a half-typed new ticket): a small JSON file in the
user state directory."""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs

from tui_desk.config import APP_NAME
from tui_desk.store.private import private_file


def state_path() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "console.json"


def load_state(path: Path | None = None) -> dict:
    """The saved state, or an empty one if the file is missing or unreadable (it is only a preference)."""
    try:
        data = json.loads((path or state_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(changes: dict, path: Path | None = None, *, strict: bool = False) -> None:
    """Merge ``changes`` into the state file, replacing it atomically (written and synced before the
    rename). Failures are ignored for a preference; with ``strict`` (a draft) they raise ``OSError``."""
    path = path or state_path()
    data = load_state(path)
    data.update(changes)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with private_file(path) as out:  # it holds half-typed tickets: customer data
            out.write(json.dumps(data, indent=2))
    except OSError:
        if strict:
            raise


def new_ticket_draft(store: Path, path: Path | None = None) -> dict | None:
    """The half-typed new ticket kept for this store, if any."""
    drafts = load_state(path).get("new_ticket_drafts")
    draft = drafts.get(str(store)) if isinstance(drafts, dict) else None
    return draft if isinstance(draft, dict) else None


def keep_new_ticket_draft(store: Path, draft: dict | None, path: Path | None = None) -> None:
    """Keep (or with None, forget) the half-typed new ticket for this store; ``OSError`` if it cannot."""
    drafts = load_state(path).get("new_ticket_drafts")
    drafts = dict(drafts) if isinstance(drafts, dict) else {}
    if draft is None:
        drafts.pop(str(store), None)
    else:
        drafts[str(store)] = draft
    save_state({"new_ticket_drafts": drafts}, path, strict=True)
