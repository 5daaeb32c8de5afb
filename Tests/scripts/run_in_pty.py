#!/usr/bin/env python3
"""Runs a command with stdout and stderr on a pseudo-terminal and prints the bytes the terminal got.

    run_in_pty.py [--columns N] [--stderr FILE] -- COMMAND [ARG...]

--stderr FILE sends the command's stderr to FILE instead (stdout stays on the terminal).
Output post-processing is off, so the bytes are exactly those the command wrote (no LF -> CRLF).
The exit code is the command's.
"""
import argparse
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=200)
    parser.add_argument("--stderr")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, args.columns, 0, 0))
    attributes = termios.tcgetattr(slave)
    attributes[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attributes)

    stderr = open(args.stderr, "wb") if args.stderr else slave
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=slave, stderr=stderr)
    os.close(slave)
    if args.stderr:
        stderr.close()

    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        received += chunk
    status = process.wait()
    sys.stdout.buffer.write(bytes(received))
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
