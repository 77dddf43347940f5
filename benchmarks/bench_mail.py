"""Benchmark mail: delivering N queued acknowledgements to a local SMTP server (aiosmtpd), with one and
with two deliverers at once, and receiving N messages through ``tui-desk receive``.

    python benchmarks/bench_mail.py [--messages 200]

Not a test: it reports wall times and rates (and the machine's load, which moves them a lot).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller

TUI_DESK = str(Path(sys.executable).with_name("tui-desk"))


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    n = parser.parse_args().messages
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    results = {"messages": n, "load": os.getloadavg()}
    try:
        for deliverers in (1, 2):
            with tempfile.TemporaryDirectory() as folder:
                db, config = Path(folder) / "desk.db", Path(folder) / "config.toml"
                config.write_text(
                    f'[mail]\nfrom = "s@example.com"\nsmtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n'
                    'smtp_security = "none"\n'
                )
                env = {**os.environ, "TUI_DESK_CONFIG": str(config), "TUI_DESK_AGENT": "bench"}
                subprocess.run([TUI_DESK, "--db", str(db), "list"], env=env, check=True, capture_output=True)
                mails = []
                for i in range(n):
                    mails.append(
                        f"From: c{i}@example.com\nSubject: case {i}\nMessage-ID: <b{i}@x>\n\nhello {i}\n".encode()
                    )
                start = time.monotonic()
                for raw in mails:  # each opens a ticket and queues its acknowledgement
                    subprocess.run(
                        [TUI_DESK, "--db", str(db), "receive"],
                        input=raw,
                        env=env,
                        check=True,
                        stdout=subprocess.DEVNULL,
                    )
                received = time.monotonic() - start
                before = sink.count
                start = time.monotonic()
                runs = [
                    subprocess.Popen([TUI_DESK, "--db", str(db), "deliver", "--json"], env=env, stdout=subprocess.PIPE)
                    for _ in range(deliverers)
                ]
                sent = sum(len(json.loads(r.communicate()[0])["sent"]) for r in runs)
                took = time.monotonic() - start
                results[f"deliver_{deliverers}"] = {
                    "seconds": round(took, 2),
                    "per_second": round(sent / took, 1),
                    "sent": sent,
                    "received_by_server": sink.count - before,
                }
                results.setdefault("receive", {"seconds": round(received, 2), "per_second": round(n / received, 1)})
    finally:
        controller.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
