#!/usr/bin/python3
"""An SMTP server on loopback for the email tests: every message it receives is written to a folder as an .eml file.

Usage: /usr/bin/python3 tools/smtp-sink/smtp_sink.py --port PORT --folder DIR
Prints "ready PORT" once it accepts connections; stops on SIGTERM or when its standard input closes.
Debian's python3-aiosmtpd provides the server (test.sh installs it).
"""
import argparse
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class FolderHandler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        name = os.path.join(self.folder, f"{number:05d}.eml")
        # Written under a temporary name, then renamed: a reader never sees half a message.
        temporary = name + ".part"
        with open(temporary, "wb") as handle:
            handle.write(envelope.original_content or envelope.content)
        os.replace(temporary, name)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    controller = Controller(FolderHandler(args.folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"ready {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The test's process holds our standard input: when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
