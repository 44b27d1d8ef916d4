#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crafts peer datagrams (proto/ftagent.h, docs/protocol.md) for the
agent-protocol test: forged, malformed, stale and replayed ones, sent to an
agent that must drop, count and log each without acting on it.

  agent-forge.py KIND KEYFILE ADDR PORT [ARGS]

KIND:
  wrong-key SENDER TYPE JSON   a well-formed message under another key
  junk                         bytes that are no message at all
  version SENDER TYPE JSON     version 2, authenticated with the right key
  signed SENDER TYPE JSON      authentic, fresh incarnation (for senders the
                               receiver must refuse for who they are)
  stale SENDER TYPE JSON       authentic, incarnation 1 (older than any agent)
  replay PCAP                  the first UDP datagram of a capture, again
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

MAGIC = 0x47415446
HEADER = struct.Struct("<IHHQQq32sII")
assert HEADER.size == 72


def message(key, sender, mtype, payload, version=1, incarnation=None):
    body = payload.encode()
    inc = incarnation if incarnation is not None else time.time_ns()
    head = HEADER.pack(MAGIC, version, mtype, inc, 1, time.time_ns(),
                       sender.encode().ljust(32, b"\0"), len(body), 0)
    return head + body + hmac.new(key, head + body, hashlib.sha256).digest()


def first_udp_payload(path):
    data = open(path, "rb").read()
    off = 24                                   # pcap global header
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            continue
        ihl = (frame[14] & 0x0F) * 4
        if frame[14 + 9] != 17:                # UDP
            continue
        return frame[14 + ihl + 8:]
    sys.exit("agent-forge: no UDP datagram in " + path)


def main():
    kind, keyfile, addr, port = sys.argv[1:5]
    args = sys.argv[5:]
    key = open(keyfile, "rb").read()
    if kind == "wrong-key":
        data = message(bytes(b ^ 0x5A for b in key), args[0], int(args[1]),
                       args[2])
    elif kind == "junk":
        data = os.urandom(200)
    elif kind == "version":
        data = message(key, args[0], int(args[1]), args[2], version=2)
    elif kind == "signed":
        data = message(key, args[0], int(args[1]), args[2])
    elif kind == "stale":
        data = message(key, args[0], int(args[1]), args[2], incarnation=1)
    elif kind == "replay":
        data = first_udp_payload(args[0])
    else:
        sys.exit("agent-forge: unknown kind " + kind)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(data, (addr, int(port)))


if __name__ == "__main__":
    main()
