#!/usr/bin/python3
"""Hold every packet of an NFQUEUE for a fixed delay, then let it through: netem's delay for kernels without netem.

Usage: delay-queue.py QUEUE_NUMBER DELAY_MS

Run inside the lab's router namespace next to `iptables -A FORWARD -j NFQUEUE --queue-num N --queue-bypass`.
It speaks nfnetlink_queue directly (no library): bind the queue, ask for metadata only (the packet stays in the
kernel), and answer each packet's id with NF_ACCEPT once its delay has passed. A constant delay keeps the order.
The queue fails open when full, so an overload shows as less delay, never as extra loss. Prints "ready" once bound.
"""

import heapq
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
AF_INET = 2
SO_RCVBUFFORCE = 33


def attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(queue: int, kind: int, attrs: bytes, seq: int) -> bytes:
    body = struct.pack("=BB", 0, 0) + struct.pack(">H", queue) + attrs
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, NLM_F_REQUEST, seq, 0) + body


def packet_ids(data: bytes):
    """The packet ids of the NFQNL_MSG_PACKET messages in one netlink datagram."""
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16:
            return
        if kind == NLMSG_ERROR:
            (error,) = struct.unpack_from("=i", data, offset + 16)
            if error != 0:
                sys.stderr.write(f"delay-queue: netlink error {error}\n")
        elif kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            at = offset + 20
            end = offset + length
            while at + 4 <= end:
                alen, atype = struct.unpack_from("=HH", data, at)
                if alen < 4:
                    break
                if atype & 0x7FFF == NFQA_PACKET_HDR:
                    yield struct.unpack_from(">I", data, at + 4)[0]
                    break
                at += (alen + 3) & ~3
        offset += (length + 3) & ~3


def main() -> None:
    queue = int(sys.argv[1])
    delay = float(sys.argv[2]) / 1000.0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((0, 0))
    seq = 1
    config = [
        attr(NFQA_CFG_CMD, struct.pack(">BBH", NFQNL_CFG_CMD_BIND, 0, AF_INET)),
        attr(NFQA_CFG_PARAMS, struct.pack(">IB", 0, NFQNL_COPY_META)),
        attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack(">I", 16384)),
        attr(NFQA_CFG_MASK, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN)) + attr(NFQA_CFG_FLAGS, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN)),
    ]
    for attrs in config:
        sock.send(message(queue, NFQNL_MSG_CONFIG, attrs, seq))
        seq += 1
    print("ready", flush=True)
    due: list = []
    while True:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, packet = heapq.heappop(due)
            sock.send(message(queue, NFQNL_MSG_VERDICT, attr(NFQA_VERDICT_HDR, struct.pack(">II", NF_ACCEPT, packet)), seq))
            seq += 1
        timeout = max(0.0, due[0][0] - now) if due else 1.0
        readable, _, _ = select.select([sock], [], [], timeout)
        if readable:
            try:
                data = sock.recv(1 << 16)
            except OSError as error:  # ENOBUFS: the kernel dropped messages; those packets were let through
                sys.stderr.write(f"delay-queue: {error}\n")
                continue
            arrived = time.monotonic()
            for packet in packet_ids(data):
                heapq.heappush(due, (arrived + delay, packet))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
