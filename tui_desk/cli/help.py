"""What ``tui-desk COMMAND --help`` says beyond the options: a one-line description and examples."""

from __future__ import annotations

import argparse

MAIN_EPILOG = """\
examples:
  tui-desk demo                      build a demo store and open the console on it
  tui-desk --demo list --status new  the demo's new tickets (global options go before or after the command)
  tui-desk list --assignee ana --json
  tui-desk COMMAND --help            one command's options and an example
  tui-desk completion bash           shell completion (bash, zsh or fish)"""

# One or two lines a person can paste; a case number is the demo's (`tui-desk --demo ...` finds it).
EXAMPLES: dict[str, list[str]] = {
    "demo": ["tui-desk demo --agent ben", "tui-desk demo --no-open --tickets 500"],
    "new": ['tui-desk new --customer "Maria Garcia" --subject "Blender arrived broken" --order VB-778812'],
    "log": [
        'tui-desk log TD-REF-2026-00013 --channel phone --summary "Called, promised a refund" --follow-up "fri 10:00"'
    ],
    "status": ['tui-desk status TD-REF-2026-00013 resolved --note "Refunded 39.90 EUR"'],
    "assign": ["tui-desk assign TD-REF-2026-00013 ben", "tui-desk assign TD-REF-2026-00013 -   # unassign"],
    "tag": ["tui-desk tag TD-REF-2026-00013 vip refund-delayed", "tui-desk tag TD-REF-2026-00013 vip --remove"],
    "refund": ["tui-desk refund TD-REF-2026-00013 --amount 39.90 --currency EUR --approved now"],
    "edit": [
        "tui-desk edit TD-REF-2026-00013 --priority urgent --order VB-778812",
        'tui-desk edit TD-REF-2026-00013 --opened "today 9:40"   # the call came before the ticket',
    ],
    "undo": ["tui-desk undo TD-REF-2026-00013"],
    "show": ["tui-desk show TD-REF-2026-00013", "tui-desk show TD-REF-2026-00013 --json"],
    "list": ["tui-desk list --status waiting-buyer --assignee ana", 'tui-desk list --search "Größe" --limit 20 --json'],
    "sweep": ["tui-desk --db /srv/desk/desk.db sweep   # from cron, every five minutes"],
    "deliver": ["tui-desk --db /srv/desk/desk.db deliver   # from cron, every minute"],
    "reply": ['tui-desk reply TD-REF-2026-00013 --body "Your refund is on its way." --status waiting-buyer'],
    "replies": ["tui-desk replies"],
    "receive": [
        "tui-desk receive --file message.eml",
        '"|/usr/local/bin/tui-desk --db /srv/desk/desk.db receive"   # a Postfix alias',
    ],
    "fetch": ["tui-desk fetch", "tui-desk fetch --maildir ~/Maildir"],
    "outbox": ["tui-desk outbox --json", "tui-desk outbox --mark-sent 42"],
    "config": ["tui-desk config", "tui-desk config --json"],
    "import": ['tui-desk import cases.xlsx --dry-run --map "Ref No=case_number"'],
    "export": ["tui-desk export --format csv --status resolved --since -7d --out resolved.csv"],
    "report": ['tui-desk report --since "2026-09-01" --csv > report.csv'],
    "overdue": ["tui-desk overdue", "tui-desk overdue --json"],
    "workload": ["tui-desk workload"],
    "supervise": ["ssh desk@helpdesk tui-desk --read-only supervise"],
    "verify": ["tui-desk verify", "tui-desk verify --against seal-2026-11-22.json"],
    "seal": ["tui-desk seal --out seal-$(date -u +%F).json"],
    "backup": ["tui-desk --db /srv/desk/desk.db backup /backup/desk-$(date -u +%F).db"],
    "restore": ["tui-desk restore /backup/desk-2026-11-22.db --db /srv/desk/desk.db"],
    "export-case": ["tui-desk export-case TD-REF-2026-00013 --out case.html"],
    "copy-store": ["tui-desk --db desk.db copy-store --to postgresql://desk@db.example.com:5432/desk"],
    "pg-roles": ["tui-desk --db postgresql://desk@db.example.com/desk pg-roles | psql -d desk"],
    "completion": [
        "tui-desk completion bash > ~/.local/share/bash-completion/completions/tui-desk",
        "tui-desk completion zsh > ~/.zfunc/_tui-desk",
        "tui-desk completion fish > ~/.config/fish/completions/tui-desk.fish",
    ],
}


def describe(parser: argparse.ArgumentParser, name: str, help_line: str, examples: list[str] | None) -> None:
    """Give a command's ``--help`` its one-line description (its line in the command list, unless it
    has a longer one) and its examples."""
    if not parser.description and help_line:
        parser.description = help_line[0].upper() + help_line[1:] + ("" if help_line.endswith(".") else ".")
    if examples:
        parser.epilog = "example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(f"  {e}" for e in examples)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
