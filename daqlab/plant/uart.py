"""What a UART receives when the sender's serial settings are not its own: the physical layer of an RS-485 bus.

A character on an asynchronous serial line is a start bit (0), the data bits (least significant first), an
optional parity bit, and one or two stop bits (1); the idle line is 1. The receiver waits for a falling edge,
then samples the middle of each bit *at its own baud rate*: when the sender's baud rate, data bits or parity differ,
it samples the wrong places and reads other bytes, with parity errors (the parity bit does not match) and framing
errors (a stop bit read as 0). :func:`receive` models exactly that on a waveform built from the sender's
settings, so a wrong setting gives what a real bus gives: garbage bytes, errors, or (at the device) a frame whose
CRC fails and gets no reply. What it shows (and tests/plant/test_uart.py checks):

- same settings: the bytes arrive unchanged, no errors;
- another baud rate (9600 vs 19200): other bytes, other byte counts, framing errors;
- parity: 8N1 sent to an 8E1 receiver: the stop bit is read as the parity bit, the next start bit as the stop
  bit, so parity or framing errors on most bytes; 8E1 sent to 8N1: the parity bit is read as the stop bit,
  a framing error on every byte whose parity bit is 0;
- stop bits: 8N2 sent to 8N1 (and the other way round) is received correctly: receivers check only the first
  stop bit, the second one looks like idle line — as on real buses, where this mismatch goes unnoticed;
- A and B swapped (``inverted``): the receiver sees the line inverted: break-like zero bytes with framing errors;
- reflections (``flip``: a probability per bit, e.g. a missing 120 Ω termination at high baud rates): occasional
  wrong bits, so occasional CRC errors.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

PARITIES = ("N", "E", "O", "M", "S")  #: none, even, odd, mark (always 1), space (always 0)


@dataclass(frozen=True)
class LineSettings:
    """Serial settings of one UART: 9600 8E1 is ``LineSettings(9600, 8, "E", 1)``."""

    baudrate: int
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1

    def __post_init__(self):
        if self.baudrate <= 0 or self.bytesize not in (5, 6, 7, 8) or self.parity not in PARITIES \
                or self.stopbits not in (1, 2):
            raise ValueError(f"not a serial setting: {self}")

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"

    @property
    def char_bits(self) -> int:
        """Bits per character: start + data + parity + stop."""
        return 1 + self.bytesize + (self.parity != "N") + self.stopbits

    def parity_bit(self, value: int) -> int:
        if self.parity in ("M", "S"):
            return 1 if self.parity == "M" else 0
        ones = bin(value & ((1 << self.bytesize) - 1)).count("1")
        return ones % 2 if self.parity == "E" else 1 - ones % 2

    def frame(self, value: int) -> list[int]:
        """The bits of one character, start bit first."""
        bits = [0] + [(value >> i) & 1 for i in range(self.bytesize)]
        if self.parity != "N":
            bits.append(self.parity_bit(value))
        return bits + [1] * self.stopbits


@dataclass(frozen=True)
class Received:
    """One character as the receiver read it."""

    value: int
    parity_error: bool = False
    framing_error: bool = False

    @property
    def ok(self) -> bool:
        return not (self.parity_error or self.framing_error)


def waveform(data: bytes, tx: LineSettings, *, inverted: bool = False, flip: float = 0.0,
             rng: random.Random | None = None) -> tuple[list[float], list[int]]:
    """The line while ``tx`` sends ``data`` back to back: (times where the level changes, the level from each
    time on), in seconds from the first start bit; idle (1) before and after. ``flip``: chance per bit of a
    wrong bit (reflections); ``inverted``: A and B swapped."""
    rng = rng or random.Random(0)
    t_bit = 1.0 / tx.baudrate
    times, levels = [float("-inf")], [1]
    t = 0.0
    for b in data:
        for bit in tx.frame(b):
            if flip and rng.random() < flip:
                bit ^= 1
            if bit != levels[-1]:
                times.append(t)
                levels.append(bit)
            t += t_bit
    if levels[-1] != 1:
        times.append(t)
        levels.append(1)
    times.append(t)  # end of transmission (level stays idle)
    levels.append(1)
    if inverted:
        levels = [1 - v for v in levels]
    return times, levels


def receive(data: bytes, tx: LineSettings, rx: LineSettings, *, inverted: bool = False, flip: float = 0.0,
            rng: random.Random | None = None) -> list[Received]:
    """The characters a UART set to ``rx`` reads while a UART set to ``tx`` sends ``data`` (see the module
    docstring). Equal settings on a clean line return ``data`` unchanged."""
    if not data:
        return []
    times, levels = waveform(data, tx, inverted=inverted, flip=flip, rng=rng)
    end = times[-1] + 2 * rx.char_bits / rx.baudrate  # listen a little past the end (an inverted line never idles)

    def level(t: float) -> int:
        return levels[bisect.bisect_right(times, t) - 1]

    t_bit = 1.0 / rx.baudrate
    out: list[Received] = []
    t = times[1] if len(times) > 1 else 0.0  # where to look for a falling edge
    while t < end:
        start = _next_falling_edge(times, levels, t, end, level)
        if start is None:
            break
        if level(start + 0.5 * t_bit) != 0:  # a glitch, not a start bit: look further
            t = start + 0.5 * t_bit
            continue
        value = 0
        for i in range(rx.bytesize):
            value |= level(start + (1.5 + i) * t_bit) << i
        k = 1 + rx.bytesize
        parity_error = False
        if rx.parity != "N":
            parity_error = level(start + (k + 0.5) * t_bit) != rx.parity_bit(value)
            k += 1
        stop_at = start + (k + 0.5) * t_bit
        framing_error = level(stop_at) != 1
        out.append(Received(value, parity_error, framing_error))
        t = stop_at  # hunt for the next start bit from the middle of the (first) stop bit
    return out


def _next_falling_edge(times, levels, t, end, level):
    """The first time >= t where the line goes from 1 to 0 (or t itself when the line is already 0 after
    a stop-bit sample: a receiver then treats the low line as the next start bit)."""
    if level(t) == 0:
        return t
    i = bisect.bisect_right(times, t)
    while i < len(times) and times[i] < end:
        if levels[i] == 0 and levels[i - 1] == 1:
            return times[i]
        i += 1
    return None


def received_bytes(chars: list[Received]) -> bytes:
    """The bytes an application reads (a character with an error reads as it was sampled, as Linux does
    without INPCK/PARMRK)."""
    return bytes(c.value & 0xFF for c in chars)
