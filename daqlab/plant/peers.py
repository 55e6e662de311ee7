"""Who is at the other end of a loopback TCP connection, and may they talk to this station?

TCP has no SO_PEERCRED, but on one machine the kernel lists every TCP socket in ``/proc/net/tcp`` (and
``tcp6``) with its owner's uid: the client's socket is the one whose local address is our peer and whose
remote address is us. :func:`peer_uid` looks it up; :class:`Owners` says which uids may use which station
(the classroom hub gives each trainee's station to their own OS account, plus the staff: instructor, HMI,
grader; root and the plant's own user may always connect). A connection from anyone else is closed before
a single frame is read, as a device behind a firewall would drop it; the plant's log says who tried.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path


def _hex_addr(host: str, port: int) -> str:
    ip = ipaddress.ip_address(host)
    if ip.version == 4:
        return f"{socket.htonl(int(ip)):08X}:{port:04X}"
    raw = ip.packed  # /proc/net/tcp6 prints the address as four host-order 32-bit words
    words = [int.from_bytes(raw[i:i + 4], "big") for i in range(0, 16, 4)]
    return "".join(f"{socket.htonl(w):08X}" for w in words) + f":{port:04X}"


def peer_uid(local: tuple, peer: tuple) -> int | None:
    """The uid owning the client socket of the connection ``peer`` -> ``local`` (None: not found)."""
    want_local, want_remote = _hex_addr(peer[0], peer[1]), _hex_addr(local[0], local[1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 7 and cols[1] == want_local and cols[2] == want_remote:
                return int(cols[7])
    return None


@dataclass
class Owners:
    """uids allowed per station; ``everywhere`` may use every station."""

    stations: dict[int, set[int]] = field(default_factory=dict)
    everywhere: set[int] = field(default_factory=set)

    def allows(self, station: int, uid: int | None) -> bool:
        if uid is None:
            return False
        return uid in (0, os.geteuid()) or uid in self.everywhere or uid in self.stations.get(station, ())

    def to_json(self) -> str:
        return json.dumps({"stations": {str(k): sorted(v) for k, v in self.stations.items()},
                           "everywhere": sorted(self.everywhere)})

    @classmethod
    def load(cls, path) -> Owners:
        """From the JSON file ``daqlab hub serve`` writes; a clear ValueError when it is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls({int(k): {int(u) for u in v} for k, v in data.get("stations", {}).items()},
                       {int(u) for u in data.get("everywhere", [])})
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ValueError(f"{path}: not a station owners file ({exc})") from exc
