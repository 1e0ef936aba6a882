#!/usr/bin/python3
"""An SMTP server on loopback for the email tests: every message it receives is written to a folder as an .eml file.

Usage: /usr/bin/python3 tools/smtp-sink/smtp_sink.py --folder DIR [--port PORT] [--reject ADDRESS ...]
Without --port (or with 0) it binds a free port itself, so no other process can take the port between choosing and
binding it. Prints "ready PORT" (the real port) once it accepts connections; stops on SIGTERM or when its standard
input closes. Each --reject ADDRESS is refused at RCPT TO with "550 5.1.1" (a permanent failure), and every refusal is
appended to DIR/rejected.log, one address a line, so tests can count how often a sender tried.
Debian's python3-aiosmtpd provides the server (test.sh installs it).
"""
import argparse
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class FolderHandler:
    def __init__(self, folder, rejected):
        self.folder = folder
        self.rejected = {address.lower() for address in rejected}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.rejected:
            with self.lock:
                with open(os.path.join(self.folder, "rejected.log"), "a", encoding="utf-8") as log:
                    log.write(address + "\n")
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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


class BoundController(Controller):
    """A controller serving on a socket bound beforehand (port 0 lets the OS choose a free one)."""

    def __init__(self, handler, sock):
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1])
        self._sock = sock

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(100)
    controller = BoundController(FolderHandler(args.folder, args.reject), sock)
    controller.start()
    print(f"ready {controller.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The test's process holds our standard input: when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
