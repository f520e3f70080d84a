"""A TCP proxy between a venue and its head office that a test can cut, or make swallow head office's answers."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

Mode = Literal["pass", "cut", "swallow"]


class LinkProxy:
    """Listens on a loopback port and forwards each connection to head office, as its mode says when it opens.

    `pass` forwards both ways. `cut` forwards the first `cut_after` bytes of the request and then drops the
    connection: the batch is cut mid-way and head office never sees it whole. `swallow` forwards the request
    whole but never the answer: head office stores the batch, the venue never hears that it did.
    """

    def __init__(self, target_port: int, *, cut_after: int = 3000) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.mode: Mode = "pass"
        self.cuts = 0
        self.answered = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._listener.close()
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._open += [client, upstream]
            mode = self.mode
            threading.Thread(target=self._pump, args=(client, upstream, mode, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, mode, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, mode: Mode, request: bool) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if request and mode == "cut":
                    room = self.cut_after - sent
                    if len(data) >= room:
                        target.sendall(data[:room])
                        self.cuts += 1
                        break
                if not request and mode == "swallow":
                    self.answered.set()
                    continue
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
