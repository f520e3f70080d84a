"""An ESC/POS reader for tests: bytes back into styled text lines and printer events.

It knows only the commands our layouts and transports send; anything else raises
UnknownCommand naming the byte, so a test proves we know every byte we send.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    40: "iso8859_15",
}

ESC, GS, DLE, FS, LF = 0x1B, 0x1D, 0x10, 0x1C, 0x0A


class DecodeError(ValueError):
    """The bytes are not ESC/POS this decoder understands."""


class UnknownCommand(DecodeError):
    """A command byte the decoder does not know."""


class TruncatedCommand(DecodeError):
    """A command cut short before its parameters."""


@dataclass(frozen=True)
class Style:
    """Print modes in force when a line's first character was printed."""

    bold: bool = False
    width: int = 1
    height: int = 1
    underline: int = 0
    inverted: bool = False
    align: str = "left"
    font: int = 0
    upside_down: bool = False

    @property
    def double_width(self) -> bool:
        return self.width >= 2

    @property
    def double_height(self) -> bool:
        return self.height >= 2

    @property
    def large(self) -> bool:
        return self.double_width and self.double_height


@dataclass(frozen=True)
class Line:
    """One printed line and its style."""

    text: str
    style: Style


@dataclass(frozen=True)
class Event:
    """A printer action or mode change, with the index of the line it happened before."""

    kind: str
    value: object
    line: int
    offset: int


@dataclass
class Decoded:
    """Everything a job would do on paper."""

    styled_lines: list[Line] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [line.text for line in self.styled_lines]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def events_of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]

    def line(self, containing: str) -> Line:
        """The first line containing the text; fails the test if there is none."""
        for line in self.styled_lines:
            if containing in line.text:
                return line
        raise AssertionError(f"no line contains {containing!r}; lines were:\n{self.text}")

    def index(self, containing: str) -> int:
        """The position of the first line containing the text."""
        for position, line in enumerate(self.styled_lines):
            if containing in line.text:
                return position
        raise AssertionError(f"no line contains {containing!r}; lines were:\n{self.text}")


_ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
_UNDERLINE = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}
_CUTS = {0: "full", 48: "full", 1: "partial", 49: "partial"}
_FEED_CUTS = {65: "full", 66: "partial"}
_DRAWER_PINS = {0: 2, 48: 2, 1: 5, 49: 5}


class _Reader:
    def __init__(self, data: bytes, codepage: str) -> None:
        self.data = data
        self.pos = 0
        self.default_codepage = codepage
        self.codepage = codepage
        self.style = Style()
        self.line_style: Style | None = None
        self.chars: list[str] = []
        self.decoded = Decoded()

    def take(self, count: int, command: str) -> bytes:
        if self.pos + count > len(self.data):
            raise TruncatedCommand(f"{command} at offset {self.pos} is missing its parameters")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def event(self, kind: str, value: object, offset: int) -> None:
        self.decoded.events.append(Event(kind, value, len(self.decoded.styled_lines), offset))

    def set_style(self, offset: int, new: Style) -> None:
        before, self.style = self.style, new
        for name in ("bold", "underline", "inverted", "align", "font", "upside_down"):
            if getattr(before, name) != getattr(new, name):
                self.event(name, getattr(new, name), offset)
        if (before.width, before.height) != (new.width, new.height):
            self.event("size", (new.width, new.height), offset)

    def end_line(self) -> None:
        self.decoded.styled_lines.append(Line("".join(self.chars), self.line_style or self.style))
        self.chars.clear()
        self.line_style = None

    def run(self) -> Decoded:
        while self.pos < len(self.data):
            offset = self.pos
            byte = self.data[self.pos]
            self.pos += 1
            if byte >= 0x20 and byte != 0x7F:
                if self.line_style is None:
                    self.line_style = self.style
                self.chars.append(bytes([byte]).decode(self.codepage))
            elif byte == LF:
                self.end_line()
            elif byte == ESC:
                self.esc(offset)
            elif byte == GS:
                self.gs(offset)
            elif byte == DLE:
                self.dle(offset)
            elif byte == FS:
                self.fs(offset)
            else:
                raise UnknownCommand(f"unexpected control byte 0x{byte:02x} at offset {offset}")
        if self.chars:
            self.end_line()
        return self.decoded

    def esc(self, offset: int) -> None:
        (command,) = self.take(1, "ESC")
        name = f"ESC {chr(command)!r}" if 0x20 <= command < 0x7F else f"ESC 0x{command:02x}"
        if command == ord("@"):
            self.codepage = self.default_codepage
            self.style = Style()
            self.event("init", None, offset)
        elif command == ord("!"):
            (mode,) = self.take(1, name)
            self.set_style(
                offset,
                replace(
                    self.style,
                    font=mode & 0x01,
                    bold=bool(mode & 0x08),
                    height=2 if mode & 0x10 else 1,
                    width=2 if mode & 0x20 else 1,
                    underline=1 if mode & 0x80 else 0,
                ),
            )
        elif command == ord("E"):
            (value,) = self.take(1, name)
            self.set_style(offset, replace(self.style, bold=bool(value & 0x01)))
        elif command == ord("-"):
            (value,) = self.take(1, name)
            if value not in _UNDERLINE:
                raise DecodeError(f"{name} with bad underline mode {value} at offset {offset}")
            self.set_style(offset, replace(self.style, underline=_UNDERLINE[value]))
        elif command == ord("M"):
            (value,) = self.take(1, name)
            self.set_style(offset, replace(self.style, font=value & 0x0F))
        elif command == ord("a"):
            (value,) = self.take(1, name)
            if value not in _ALIGN:
                raise DecodeError(f"{name} with bad alignment {value} at offset {offset}")
            self.set_style(offset, replace(self.style, align=_ALIGN[value]))
        elif command == ord("{"):
            (value,) = self.take(1, name)
            self.set_style(offset, replace(self.style, upside_down=bool(value & 0x01)))
        elif command == ord("t"):
            (number,) = self.take(1, name)
            if number not in CODE_PAGES:
                raise DecodeError(f"ESC t selects code page {number}, which the decoder cannot map")
            self.codepage = CODE_PAGES[number]
            self.event("codepage", (number, self.codepage), offset)
        elif command == ord("d"):
            (count,) = self.take(1, name)
            if self.chars:
                self.end_line()
            self.event("feed", count, offset)
        elif command == ord("p"):
            pin, on_time, off_time = self.take(3, name)
            if pin not in _DRAWER_PINS:
                raise DecodeError(f"ESC p with bad connector pin {pin} at offset {offset}")
            self.event("drawer_kick", _DRAWER_PINS[pin], offset)
            self.event("drawer_pulse", (on_time, off_time), offset)
        else:
            raise UnknownCommand(f"unknown command {name} (0x1b 0x{command:02x}) at offset {offset}")

    def gs(self, offset: int) -> None:
        (command,) = self.take(1, "GS")
        name = f"GS {chr(command)!r}" if 0x20 <= command < 0x7F else f"GS 0x{command:02x}"
        if command == ord("!"):
            (size,) = self.take(1, name)
            self.set_style(offset, replace(self.style, width=(size >> 4) + 1, height=(size & 0x0F) + 1))
        elif command == ord("B"):
            (value,) = self.take(1, name)
            self.set_style(offset, replace(self.style, inverted=bool(value & 0x01)))
        elif command == ord("V"):
            (mode,) = self.take(1, name)
            if mode in _CUTS:
                cut = _CUTS[mode]
            elif mode in _FEED_CUTS:
                self.take(1, name)
                cut = _FEED_CUTS[mode]
            else:
                raise DecodeError(f"GS V with unknown cut mode {mode} at offset {offset}")
            if self.chars:
                self.end_line()
            self.event("cut", cut, offset)
        elif command == ord("(") and self.data[self.pos : self.pos + 1] == b"k":
            self.take(1, name)
            low, high = self.take(2, name)
            payload = self.take(low + high * 256, name)
            if payload[:1] != b"\x31":
                raise UnknownCommand(f"unknown command GS ( k for symbol {payload[:1]!r} at offset {offset}")
            # A QR code (cn 49): fn 80 stores its data (after m = 48), fn 81 prints it; the rest set size and level.
            if payload[1] == 0x50:
                self.event("qr_data", payload[3:].decode("ascii", "replace"), offset)
            elif payload[1] == 0x51:
                self.event("qr_print", None, offset)
        else:
            raise UnknownCommand(f"unknown command {name} (0x1d 0x{command:02x}) at offset {offset}")

    def dle(self, offset: int) -> None:
        (command,) = self.take(1, "DLE")
        if command != 0x04:
            raise UnknownCommand(f"unknown command DLE 0x{command:02x} at offset {offset}")
        (query,) = self.take(1, "DLE EOT")
        if query not in (1, 2, 3, 4):
            raise DecodeError(f"DLE EOT with unknown status {query} at offset {offset}")
        self.event("status_query", query, offset)

    def fs(self, offset: int) -> None:
        (command,) = self.take(1, "FS")
        if command != ord("."):
            raise UnknownCommand(f"unknown command FS 0x{command:02x} at offset {offset}")
        self.event("cancel_kanji", None, offset)


def decode(data: bytes, codepage: str = "cp858") -> Decoded:
    """Decode a job; `codepage` is the printer's table at power-on and after ESC @."""
    return _Reader(data, codepage).run()
