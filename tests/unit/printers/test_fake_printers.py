from __future__ import annotations

import os
import socket
import threading

from tests.support.fake_printer import FakeNetworkPrinter, FakeSerialPrinter, PrinterState, _StatusQueries


def test_status_queries_split_across_chunks_are_still_answered() -> None:
    queries = _StatusQueries()

    assert queries.feed(b"abc\x10") == []
    assert queries.feed(b"\x04") == []
    assert queries.feed(b"\x01\x10\x04\x04xyz") == [1, 4]


def test_fake_network_printer_listens_again_on_the_same_port() -> None:
    with FakeNetworkPrinter() as printer:
        port = printer.port
        printer.refuse_connections()
        printer.accept_connections()

        assert printer.port == port
        with socket.create_connection((printer.host, port), timeout=1) as client:
            client.sendall(b"\x10\x04\x01hello")
            assert client.recv(1) == b"\x12"
        assert printer.wait_for_bytes(8).endswith(b"hello")


def test_fake_printers_leave_no_threads_or_file_descriptors_behind() -> None:
    threads_before = threading.active_count()
    fds_before = len(os.listdir("/proc/self/fd"))

    with FakeNetworkPrinter(PrinterState.SILENT) as network, FakeSerialPrinter() as serial_printer:
        network.transport(check_status=False).send(b"\x1b@")
        serial_printer.transport().send(b"\x1b@")
        serial_printer.wait_for_bytes(14)

    assert threading.active_count() == threads_before
    assert len(os.listdir("/proc/self/fd")) == fds_before
