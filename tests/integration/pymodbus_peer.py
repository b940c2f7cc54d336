"""pymodbus 3.0.0rc1 as an independent Modbus TCP peer for Bifrost's integration tests.

  pymodbus_peer.py server          serves known values on 127.0.0.1 (port picked by the OS);
                                   prints one JSON line {"port", "points", "coils", ...} and
                                   runs until stdin closes or it is killed.
  pymodbus_peer.py client PORT     reads and writes our simulator with pymodbus's client and
                                   prints one JSON line with what it saw.

Values are encoded and decoded with pymodbus's BinaryPayloadBuilder/Decoder, never with
Bifrost's codec, so the test compares two independent implementations.
"""

import asyncio
import json
import sys

from pymodbus.constants import Endian
from pymodbus.payload import BinaryPayloadBuilder, BinaryPayloadDecoder

# (byteorder, wordorder) per Bifrost order name.
ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}
VALUES = [
    ("int16", -1234, "add_16bit_int", "decode_16bit_int"),
    ("uint16", 54321, "add_16bit_uint", "decode_16bit_uint"),
    ("int32", -123456789, "add_32bit_int", "decode_32bit_int"),
    ("uint32", 3000000000, "add_32bit_uint", "decode_32bit_uint"),
    ("int64", -1234567890123456789, "add_64bit_int", "decode_64bit_int"),
    ("uint64", 12345678901234567890, "add_64bit_uint", "decode_64bit_uint"),
    ("float32", -2.25, "add_32bit_float", "decode_32bit_float"),
    ("float64", 123.456, "add_64bit_float", "decode_64bit_float"),
]
STRING = "BOILER-1"
STRING_AT = 200
COILS = [True, False, True, True, False, False, True, False, True, True]
DISCRETE = [False, True, True, False, True]
INPUTS = [7, 65535, 12345]


def layout():
    """Yields (address, type, order, value, words) for every value and order."""
    at = 0
    for order, (bo, wo) in ORDERS.items():
        for name, value, add, _ in VALUES:
            b = BinaryPayloadBuilder(byteorder=bo, wordorder=wo)
            getattr(b, add)(value)
            yield at, name, order, value, b.to_registers()
            at += 4


async def serve():
    from pymodbus.datastore import (
        ModbusSequentialDataBlock,
        ModbusServerContext,
        ModbusSlaveContext,
    )
    from pymodbus.server.async_io import ModbusTcpServer

    regs = [0] * 256
    points = []
    for at, name, order, value, words in layout():
        regs[at : at + len(words)] = words
        points.append(
            {"address": f"HR{at}", "type": name, "order": order, "value": str(value), "words": words}
        )
    b = BinaryPayloadBuilder(byteorder=Endian.Big)
    b.add_string(STRING)
    words = b.to_registers()
    regs[STRING_AT : STRING_AT + len(words)] = words
    slave = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, regs),
        ir=ModbusSequentialDataBlock(0, INPUTS + [0] * 16),
        co=ModbusSequentialDataBlock(0, COILS + [False] * 16),
        di=ModbusSequentialDataBlock(0, DISCRETE + [False] * 16),
        zero_mode=True,
    )
    server = ModbusTcpServer(ModbusServerContext(slaves=slave, single=True), address=("127.0.0.1", 0))
    task = asyncio.ensure_future(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(
        json.dumps(
            {
                "port": port,
                "points": points,
                "string": {"address": f"HR{STRING_AT}", "length": len(words), "value": STRING},
                "coils": COILS,
                "discrete": DISCRETE,
                "inputs": INPUTS,
            }
        ),
        flush=True,
    )
    loop = asyncio.get_event_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    task.cancel()


def client(port):
    from pymodbus.client import ModbusTcpClient

    c = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    assert c.connect(), "cannot connect"
    out = {"values": []}
    for at, name, order, value, _ in layout():
        n = 1 if name.endswith("16") else 2 if name.endswith("32") else 4
        rr = c.read_holding_registers(at, n, slave=1)
        assert not rr.isError(), f"read HR{at}: {rr}"
        bo, wo = ORDERS[order]
        d = BinaryPayloadDecoder.fromRegisters(rr.registers, byteorder=bo, wordorder=wo)
        decode = dict((v[0], v[3]) for v in VALUES)[name]
        out["values"].append(
            {"type": name, "order": order, "value": str(getattr(d, decode)()), "words": rr.registers}
        )
    out["coils"] = c.read_coils(0, 10, slave=1).bits[:10]
    out["discrete"] = c.read_discrete_inputs(0, 5, slave=1).bits[:5]
    out["inputs"] = c.read_input_registers(0, 3, slave=1).registers
    b = BinaryPayloadBuilder(byteorder=Endian.Big, wordorder=Endian.Little)
    b.add_32bit_float(98.5)
    out["write_registers"] = not c.write_registers(300, b.to_registers(), slave=1).isError()
    out["write_register"] = not c.write_register(310, 4242, slave=1).isError()
    out["write_coil"] = not c.write_coil(20, True, slave=1).isError()
    out["write_coils"] = not c.write_coils(30, [True, False, True], slave=1).isError()
    # rc1 ignores slave= for FC22 and FC23 requests (they take unit=).
    out["mask_write"] = not c.mask_write_register(address=320, and_mask=0x00F0, or_mask=0x0005, unit=1).isError()
    rw = c.readwrite_registers(read_address=330, read_count=2, write_address=330, write_registers=[1, 2], unit=1)
    out["readwrite"] = rw.registers
    exc = c.read_holding_registers(500, 2, slave=1)
    out["exception"] = getattr(exc, "exception_code", None)
    c.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(serve())
    else:
        client(int(sys.argv[2]))
