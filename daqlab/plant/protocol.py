"""Modbus PDU processing, as the application protocol specification says.

``process(device, pdu, record)`` returns the reply PDU for one request to one device: a normal
response, or an exception response (function code + 0x80, then the exception code). Checks follow
the specification's order: unsupported function -> 01; malformed length or quantity out of range
(count 0, > 125 registers, > 2000 bits, byte count mismatch, FC 05 value not 0xFF00/0x0000) -> 03;
address range outside the device map -> 02; the device refusing a value -> 03 (or 04).
``record(function, address, count, values, exception)`` is called once per request for the log.
"""

from __future__ import annotations

import struct

from daqlab.plant.devices.base import ModbusError

READ_BITS = {1: "coil", 2: "discrete"}
READ_REGS = {3: "holding", 4: "input"}
WRITE_FCS = (5, 6, 15, 16, 22, 23)
MAX_BITS, MAX_REGS, MAX_WRITE_BITS, MAX_WRITE_REGS, MAX_RW_WRITE = 2000, 125, 1968, 123, 121

_HH = struct.Struct(">HH")
_HHH = struct.Struct(">HHH")


def exception_pdu(function: int, code: int) -> bytes:
    return bytes(((function & 0x7F) | 0x80, code))


def pack_bits(bits) -> bytes:
    """Bits LSB-first in each byte, as FC 01/02 responses carry them."""
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            out[i >> 3] |= 1 << (i & 7)
    return bytes(out)


def unpack_bits(data: bytes, count: int) -> list[bool]:
    return [bool(data[i >> 3] >> (i & 7) & 1) for i in range(count)]


def process(device, pdu: bytes, record) -> bytes:
    fc = pdu[0]
    try:
        if fc in READ_REGS or fc in READ_BITS:
            if len(pdu) != 5:
                raise ModbusError(3, "read request must be 5 bytes")
            address, count = _HH.unpack_from(pdu, 1)
            bits = fc in READ_BITS
            if not 1 <= count <= (MAX_BITS if bits else MAX_REGS):
                raise ModbusError(3, f"quantity {count} out of range")
            if address + count > 0x10000:
                raise ModbusError(2, "address range beyond 65535")
            area = READ_BITS[fc] if bits else READ_REGS[fc]
            try:
                values = device.read(area, address, count)
            except ModbusError as exc:
                record(fc, address, count, None, exc.code)
                raise
            record(fc, address, count, tuple(values), None)
            if bits:
                data = pack_bits(values)
                return bytes((fc, len(data))) + data
            return struct.pack(f">BB{count}H", fc, 2 * count, *values)
        if fc == 5 or fc == 6:
            if len(pdu) != 5:
                raise ModbusError(3, "write-single request must be 5 bytes")
            address, value = _HH.unpack_from(pdu, 1)
            if fc == 5:
                if value not in (0xFF00, 0x0000):
                    raise ModbusError(3, "FC 05 value must be 0xFF00 (ON) or 0x0000 (OFF)")
                _write(device, record, fc, "coil", address, [value == 0xFF00])
            else:
                _write(device, record, fc, "holding", address, [value])
            return bytes(pdu)
        if fc == 15 or fc == 16:
            if len(pdu) < 6:
                raise ModbusError(3, "write-multiple request too short")
            address, count = _HH.unpack_from(pdu, 1)
            nbytes = pdu[5]
            limit = MAX_WRITE_BITS if fc == 15 else MAX_WRITE_REGS
            expected = (count + 7) // 8 if fc == 15 else 2 * count
            if not 1 <= count <= limit or nbytes != expected or len(pdu) != 6 + nbytes:
                raise ModbusError(3, "quantity or byte count out of range")
            if address + count > 0x10000:
                raise ModbusError(2, "address range beyond 65535")
            if fc == 15:
                _write(device, record, fc, "coil", address, unpack_bits(pdu[6:], count))
            else:
                _write(device, record, fc, "holding", address, list(struct.unpack_from(f">{count}H", pdu, 6)))
            return pdu[:5]
        if fc == 22:
            if len(pdu) != 7:
                raise ModbusError(3, "mask-write request must be 7 bytes")
            address, and_mask, or_mask = _HHH.unpack_from(pdu, 1)
            (current,) = device.read("holding", address, 1)
            _write(device, record, fc, "holding", address, [(current & and_mask) | (or_mask & ~and_mask & 0xFFFF)])
            return bytes(pdu)
        if fc == 23:
            if len(pdu) < 10:
                raise ModbusError(3, "read/write request too short")
            raddr, rcount, waddr, wcount = struct.unpack_from(">HHHH", pdu, 1)
            nbytes = pdu[9]
            if not (1 <= rcount <= MAX_REGS and 1 <= wcount <= MAX_RW_WRITE and nbytes == 2 * wcount
                    and len(pdu) == 10 + nbytes):
                raise ModbusError(3, "quantity or byte count out of range")
            if raddr + rcount > 0x10000 or waddr + wcount > 0x10000:
                raise ModbusError(2, "address range beyond 65535")
            if not device.in_block("holding", raddr, rcount):
                raise ModbusError(2, "read range outside the map")
            _write(device, record, fc, "holding", waddr, list(struct.unpack_from(f">{wcount}H", pdu, 10)))
            values = device.read("holding", raddr, rcount)
            record(fc, raddr, rcount, tuple(values), None)
            return struct.pack(f">BB{rcount}H", fc, 2 * rcount, *values)
        if fc == 0x2B:
            return _device_identification(device, pdu, record)
        raise ModbusError(1, f"function code {fc} not supported")
    except ModbusError as exc:
        if exc.code in (1, 3) or (exc.code == 2 and fc not in READ_REGS and fc not in READ_BITS and fc not in WRITE_FCS):
            record(fc, None, None, None, exc.code)
        return exception_pdu(fc, exc.code)


def _write(device, record, fc, area, address, values) -> None:
    try:
        device.write(area, address, values)
    except ModbusError as exc:
        record(fc, address, len(values), tuple(values), exc.code)
        raise
    record(fc, address, len(values), tuple(values), None)


def _device_identification(device, pdu: bytes, record) -> bytes:
    """FC 43 / MEI 14: basic objects 0 VendorName, 1 ProductCode, 2 MajorMinorRevision."""
    if len(pdu) != 4:
        raise ModbusError(3, "read device identification request must be 4 bytes")
    mei, code, obj = pdu[1], pdu[2], pdu[3]
    if mei != 0x0E:
        raise ModbusError(1, f"MEI type {mei} not supported")
    if code not in (1, 2, 3, 4):
        raise ModbusError(3, f"read device id code {code} invalid")
    objects = [s.encode("ascii") for s in device.identity]
    if code == 4:
        if obj > 2:
            raise ModbusError(2, f"object id {obj} not available")
        ids = [obj]
    else:  # basic conformity only: regular/extended requests are answered with the basic objects
        ids = list(range(obj if obj <= 2 else 0, 3))
    body = b"".join(bytes((i, len(objects[i]))) + objects[i] for i in ids)
    record(0x2B, code, len(ids), tuple(device.identity[i] for i in ids), None)
    return bytes((0x2B, 0x0E, code, 0x81, 0x00, 0x00, len(ids))) + body
