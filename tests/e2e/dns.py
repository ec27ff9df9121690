"""The cluster's DNS on the end-to-end cluster: the records an administrator puts in DNS before
the runbook starts (each host's FQDN forward and back to its management address, each storage
name to its storage address, the engine's name), served to the hosts' resolvers.

    python3 dns.py RECORDS.json ADDRESS

answers UDP queries on ADDRESS port 53 from RECORDS.json ({"a": {name: address}, "ptr":
{address: name}}), run by the harness in the hosts' network namespace. The messages are
RFC 1035's: a 12-byte header (4.1.1), the question (4.1.2), answer records (4.1.3) of type A
(1, RDATA the four bytes of the address, 3.4.1) or PTR (12, RDATA a domain name, 3.3.12) for
in-addr.arpa names (3.5); names compare without regard to case (RFC 4343). A name it does not
know is NXDOMAIN (RCODE 3); a known name asked for another type has no answer (NOERROR), as
an authoritative server says.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from ipaddress import IPv4Address
from pathlib import Path

A, PTR, IN = 1, 12, 1
TTL = 60


def _name(data: bytes, at: int) -> tuple[str, int]:
    """The domain name at `at` (labels, no compression in a question) and where it ends."""
    labels = []
    while data[at]:
        length = data[at]
        labels.append(data[at + 1 : at + 1 + length].decode("ascii"))
        at += 1 + length
    return ".".join(labels), at + 1


def _encode(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.split(".") if p) + b"\0"


def reply(query: bytes, forward: dict[str, str], reverse: dict[str, str]) -> bytes:
    ident, flags = struct.unpack("!HH", query[:4])
    name, end = _name(query, 12)
    qtype, _ = struct.unpack("!HH", query[end : end + 4])
    question = query[12 : end + 4]
    key = name.lower().rstrip(".")
    answers: list[bytes] = []
    known = False
    if key.endswith(".in-addr.arpa"):
        address = ".".join(reversed(key.removesuffix(".in-addr.arpa").split(".")))
        known = address in reverse
        if known and qtype == PTR:
            rdata = _encode(reverse[address])
            answers.append(_encode(name) + struct.pack("!HHIH", PTR, IN, TTL, len(rdata)) + rdata)
    else:
        known = key in forward
        if known and qtype == A:
            rdata = IPv4Address(forward[key]).packed
            answers.append(_encode(name) + struct.pack("!HHIH", A, IN, TTL, 4) + rdata)
    # QR, the query's opcode and RD, AA; RA; RCODE 3 (NXDOMAIN) for a name it does not know.
    out_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | (0 if known else 3)
    header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), 0, 0)
    return header + question + b"".join(answers)


def main() -> None:
    records = json.loads(Path(sys.argv[1]).read_text())
    forward = {k.lower(): v for k, v in records["a"].items()}
    reverse = {k: v for k, v in records["ptr"].items()}
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((sys.argv[2], 53))
    while True:
        query, client = server.recvfrom(512)
        try:
            server.sendto(reply(query, forward, reverse), client)
        except (IndexError, struct.error, UnicodeDecodeError):
            continue  # not a query this server reads: no answer, as a lost packet


if __name__ == "__main__":
    main()
