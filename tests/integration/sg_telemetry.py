#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A minimal DPDK telemetry client (the v2 socket protocol).

    sg_telemetry.py PREFIX CMD...    e.g.  sg_telemetry.py sgt12345 /sipguard/trunks

Connects to dpdk_telemetry.v2 in the runtime directory of the DPDK primary
started with --file-prefix PREFIX (/var/run/dpdk/PREFIX/, or
$XDG_RUNTIME_DIR/dpdk/PREFIX/ for non-root), over AF_UNIX SOCK_SEQPACKET:
the server first sends one JSON object with "max_output_len", then answers
each command (a string such as "/sipguard/trunk,carrier-a") with one JSON
object {CMD: DATA}. Prints {CMD: DATA, ...} for the commands given, as one
JSON object. Exit 1 when the socket cannot be reached or a reply is not JSON.
"""

import json
import os
import socket
import sys


def runtime_dir(prefix):
    if os.getuid() != 0 and os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk", prefix)
    return os.path.join("/var/run/dpdk", prefix)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    path = os.path.join(runtime_dir(argv[0]), "dpdk_telemetry.v2")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(10)
        s.connect(path)
        hello = json.loads(s.recv(16384).decode())
        size = int(hello.get("max_output_len", 16384))
        out = {}
        for cmd in argv[1:]:
            s.send(cmd.encode())
            reply = json.loads(s.recv(size).decode())
            key = cmd.split(",", 1)[0]
            out[cmd] = reply.get(key)
    except (OSError, ValueError) as e:
        print("sg_telemetry: %s: %s" % (path, e), file=sys.stderr)
        return 1
    finally:
        s.close()
    json.dump(out, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
