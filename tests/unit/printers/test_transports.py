from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printers.errors import (
    AmbiguousDelivery,
    PrinterCoverOpen,
    PrinterNotAnswering,
    PrinterOffline,
    PrinterPaperOut,
    PrinterUnreachable,
)
from printers.layouts import render_kitchen_ticket
from printers.status import PrinterStatus
from printers.transports import FileTransport, NetworkTransport, SerialTransport, transport_from_uri
from tests.support.escpos_decoder import decode
from tests.support.fake_printer import FakeNetworkPrinter, FakeSerialPrinter, PrinterState
from tests.unit.printers.samples import kitchen_ticket

TICKET = render_kitchen_ticket(kitchen_ticket())
# larger than any socket or pty buffer, so a printer that stops reading blocks the write
FLOOD = b"x" * (32 * 1024 * 1024)


@pytest.fixture
def network_printer() -> Iterator[FakeNetworkPrinter]:
    with FakeNetworkPrinter() as printer:
        yield printer


@pytest.fixture
def serial_printer() -> Iterator[FakeSerialPrinter]:
    with FakeSerialPrinter() as printer:
        yield printer


def test_network_transport_checks_status_then_delivers_the_ticket(network_printer: FakeNetworkPrinter) -> None:
    network_printer.transport().send(TICKET)

    (connection,) = network_printer.wait_for_connections(1)
    printed = decode(connection.data)
    queries = printed.events_of("status_query")
    assert [query.value for query in queries] == [1, 2, 4, 1]
    assert queries[2].offset < printed.events_of("init")[0].offset < queries[3].offset
    assert printed.line("T12").style.large
    assert connection.data.count(TICKET) == 1


def test_network_printer_refusing_connections_raises_retryable_unreachable(
    network_printer: FakeNetworkPrinter,
) -> None:
    network_printer.refuse_connections()

    with pytest.raises(PrinterUnreachable) as refused:
        network_printer.transport().send(TICKET)

    assert refused.value.retryable
    assert str(network_printer.port) in str(refused.value)


def test_printer_listening_again_gets_the_retried_job(network_printer: FakeNetworkPrinter) -> None:
    transport = network_printer.transport()
    network_printer.refuse_connections()
    with pytest.raises(PrinterUnreachable):
        transport.send(TICKET)

    network_printer.accept_connections()
    transport.send(TICKET)

    assert network_printer.wait_for_bytes(len(TICKET)).count(TICKET) == 1


@pytest.mark.parametrize(
    ("state", "error"),
    [
        (PrinterState.PAPER_OUT, PrinterPaperOut),
        (PrinterState.OFFLINE, PrinterOffline),
        (PrinterState.COVER_OPEN, PrinterCoverOpen),
    ],
)
def test_paper_out_offline_or_cover_open_fails_before_sending(
    network_printer: FakeNetworkPrinter, state: PrinterState, error: type[Exception]
) -> None:
    network_printer.state = state

    with pytest.raises(error) as refused:
        network_printer.transport().send(TICKET)

    assert refused.value.retryable  # type: ignore[attr-defined]
    (connection,) = network_printer.wait_for_connections(1)
    printed = decode(connection.data)
    assert printed.kinds() == ["status_query", "status_query", "status_query"]
    assert printed.lines == []


def test_printer_low_on_paper_still_prints(network_printer: FakeNetworkPrinter) -> None:
    network_printer.state = PrinterState.PAPER_LOW
    transport = network_printer.transport()

    assert transport.status() is PrinterStatus.PAPER_LOW
    transport.send(TICKET)

    assert TICKET in network_printer.wait_for_bytes(len(TICKET))


def test_a_printer_that_answers_no_status_query_gets_no_ticket(network_printer: FakeNetworkPrinter) -> None:
    network_printer.state = PrinterState.SILENT
    transport = network_printer.transport(status_timeout=0.05)

    with pytest.raises(PrinterNotAnswering):
        transport.status()
    with pytest.raises(PrinterNotAnswering) as silent:
        transport.send(TICKET)

    assert silent.value.retryable
    connections = network_printer.wait_for_connections(2)
    assert connections[1].data == b"\x10\x04\x01"


def test_a_printer_set_up_without_status_checks_gets_the_ticket_unasked(network_printer: FakeNetworkPrinter) -> None:
    network_printer.state = PrinterState.SILENT
    transport = network_printer.transport(check_status=False)

    assert transport.status() is PrinterStatus.UNKNOWN
    transport.send(TICKET)

    connections = network_printer.wait_for_connections(2)
    assert connections[0].data == b""
    assert connections[1].data == TICKET


def test_a_wedged_printer_that_accepts_but_never_reads_is_not_sent_the_ticket(
    network_printer: FakeNetworkPrinter,
) -> None:
    network_printer.stop_reading()
    transport = network_printer.transport(status_timeout=0.2)

    with pytest.raises(PrinterNotAnswering, match="answered no status query") as wedged:
        transport.send(TICKET)

    assert wedged.value.retryable
    assert len(network_printer.connections) == 1
    assert network_printer.received == b""


def test_a_printer_that_hangs_after_answering_status_does_not_count_the_job_as_printed(
    network_printer: FakeNetworkPrinter,
) -> None:
    # three status queries of three bytes each are answered, then the firmware stops reading
    network_printer.hang_after = 9

    with pytest.raises(AmbiguousDelivery, match="did not confirm the job") as unconfirmed:
        network_printer.transport(io_timeout=0.3).send(TICKET)

    assert not unconfirmed.value.retryable
    assert network_printer.received == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


@pytest.mark.parametrize("state", [state for state in PrinterState if state is not PrinterState.SILENT])
def test_network_status_reports_what_the_printer_answers(
    network_printer: FakeNetworkPrinter, state: PrinterState
) -> None:
    network_printer.state = state

    status = network_printer.transport().status()

    assert status.value == state.value


def test_status_of_a_printer_that_is_not_there_raises_unreachable(network_printer: FakeNetworkPrinter) -> None:
    network_printer.refuse_connections()

    with pytest.raises(PrinterUnreachable):
        network_printer.transport().status()


def test_connection_dropped_mid_job_raises_ambiguous_delivery(network_printer: FakeNetworkPrinter) -> None:
    network_printer.drop_after = 100

    with pytest.raises(AmbiguousDelivery) as broken:
        network_printer.transport().send(TICKET)

    assert not broken.value.retryable
    (connection,) = network_printer.wait_for_connections(1)
    assert connection.dropped
    assert len(connection.data) == 100


def test_silent_printer_dropping_a_long_job_raises_ambiguous_delivery(network_printer: FakeNetworkPrinter) -> None:
    network_printer.state = PrinterState.SILENT
    network_printer.drop_after = 4096

    with pytest.raises(AmbiguousDelivery, match="may or may not have printed"):
        network_printer.transport(check_status=False).send(FLOOD)


def test_printer_that_stops_reading_times_out_as_ambiguous_delivery(network_printer: FakeNetworkPrinter) -> None:
    network_printer.stop_reading()

    with pytest.raises(AmbiguousDelivery):
        network_printer.transport(check_status=False, io_timeout=0.3).send(FLOOD)


def test_serial_transport_delivers_ticket_through_a_pty(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.transport(baudrate=19200).send(TICKET)

    received = serial_printer.wait_for_bytes(len(TICKET) + 9)
    printed = decode(received)
    assert [query.value for query in printed.events_of("status_query")] == [1, 2, 4, 1]
    assert printed.line("T12").style.large
    assert received == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04" + TICKET + b"\x10\x04\x01"


def test_serial_paper_out_fails_before_sending(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.state = PrinterState.PAPER_OUT

    with pytest.raises(PrinterPaperOut):
        serial_printer.transport().send(TICKET)

    assert serial_printer.received == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


def test_serial_cover_open_fails_before_sending(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.state = PrinterState.COVER_OPEN

    with pytest.raises(PrinterCoverOpen, match="cover open"):
        serial_printer.transport().send(TICKET)

    assert serial_printer.received == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


def test_serial_silent_printer_gets_no_ticket(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.state = PrinterState.SILENT
    transport = serial_printer.transport(status_timeout=0.05)

    with pytest.raises(PrinterNotAnswering):
        transport.send(TICKET)

    assert serial_printer.wait_for_bytes(3) == b"\x10\x04\x01"


def test_serial_printer_that_stops_reading_gets_no_ticket(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.stop_reading()

    with pytest.raises(PrinterNotAnswering):
        serial_printer.transport(status_timeout=0.1).send(TICKET)

    serial_printer.resume_reading()
    assert serial_printer.wait_for_bytes(3) == b"\x10\x04\x01"


@pytest.mark.parametrize(
    "state", [PrinterState.OK, PrinterState.PAPER_LOW, PrinterState.OFFLINE, PrinterState.COVER_OPEN]
)
def test_serial_status_reports_what_the_printer_answers(serial_printer: FakeSerialPrinter, state: PrinterState) -> None:
    serial_printer.state = state

    assert serial_printer.transport().status().value == state.value


def test_serial_printer_holding_back_data_times_out_as_ambiguous_delivery(serial_printer: FakeSerialPrinter) -> None:
    serial_printer.stop_reading()

    with pytest.raises(AmbiguousDelivery):
        serial_printer.transport(check_status=False, write_timeout=0.2).send(FLOOD[: 1024 * 1024])


def test_missing_serial_device_raises_retryable_unreachable(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnreachable) as missing:
        SerialTransport(str(tmp_path / "ttyUSB9")).send(TICKET)

    assert missing.value.retryable


def test_file_transport_appends_each_job(tmp_path: Path) -> None:
    spool = tmp_path / "spool.bin"
    transport = FileTransport(spool)

    assert transport.status() is PrinterStatus.OK
    transport.send(TICKET)
    transport.send(TICKET)

    assert spool.read_bytes() == TICKET + TICKET
    assert len(decode(spool.read_bytes()).events_of("cut")) == 2


def test_file_transport_in_a_missing_directory_raises_unreachable(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "gone" / "spool.bin")

    with pytest.raises(PrinterUnreachable):
        transport.send(TICKET)
    with pytest.raises(PrinterUnreachable):
        transport.status()


def test_transport_from_uri_builds_a_network_transport() -> None:
    transport = transport_from_uri("tcp://10.0.0.7:9101?io_timeout=2.5&check_status=no")

    assert isinstance(transport, NetworkTransport)
    assert (transport.host, transport.port, transport.io_timeout) == ("10.0.0.7", 9101, 2.5)
    assert transport.connect_timeout == 3.0
    assert not transport.check_status
    default_port = transport_from_uri("tcp://kitchen-printer.local")
    assert isinstance(default_port, NetworkTransport)
    assert default_port.port == 9100


def test_transport_from_uri_builds_a_serial_transport() -> None:
    transport = transport_from_uri("serial:///dev/ttyUSB0?baudrate=19200&rtscts=1")

    assert isinstance(transport, SerialTransport)
    assert (transport.device, transport.baudrate, transport.rtscts) == ("/dev/ttyUSB0", 19200, True)
    assert transport.write_timeout == 5.0


def test_transport_from_uri_builds_a_file_transport() -> None:
    transport = transport_from_uri("file:///var/spool/brigade/grill%201.bin")

    assert isinstance(transport, FileTransport)
    assert transport.path == Path("/var/spool/brigade/grill 1.bin")


@pytest.mark.parametrize(
    ("uri", "complaint"),
    [
        ("lpt://printer", "unsupported printer uri"),
        ("10.0.0.7:9100", "unsupported printer uri"),
        ("", "unsupported printer uri"),
        ("tcp://", "no host"),
        ("tcp://:9100", "no host"),
        ("tcp://printer:99999", "bad port"),
        ("tcp://printer:abc", "bad port"),
        ("tcp://printer/queue", "must not have a path"),
        ("tcp://printer?timeout=3", "unknown option 'timeout'"),
        ("tcp://printer?io_timeout=soon", "io_timeout must be a number"),
        ("tcp://printer?io_timeout=0", "io_timeout must be positive"),
        ("tcp://printer?check_status=maybe", "check_status must be true or false"),
        ("serial://dev/ttyUSB0", "must look like serial:///dev/ttyUSB0"),
        ("serial:///", "no device path"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate must be a whole number"),
        ("serial:///dev/ttyUSB0?baudrate=0", "baudrate must be positive"),
        ("serial:///dev/ttyUSB0?parity=X", "parity"),
        ("file://", "no file name"),
        ("file:///var/spool/", "no file name"),
        ("file://printer/spool.bin", "must look like file:///path"),
        ("file:///tmp/spool.bin?sync=1", "takes no options"),
    ],
)
def test_transport_from_uri_explains_a_bad_uri(uri: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("?", r"\?")):
        transport_from_uri(uri)
