#!/usr/bin/env python3
"""A damaged data file never loses acknowledged data silently: a torn last record (a crash in the
middle of a write) is truncated at start and every earlier write is served; a corrupted record in
the middle of the log refuses to start with a clear message and a non-zero exit.
Usage: test_damaged_wal.py PATH/TO/prez-server"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from prez_harness import call, check, free_port, start_process, stop_process, wait_until






def last_entry_record(data):
    """(offset, length) of the last log entry record in a segment: records are [u32 length][u32
    crc][payload] little-endian; sync marks have a 9-byte payload starting 0xcf (log_store.hpp)."""
    offset, found = 0, None
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset:offset + 4], "little")
        if not (length == 9 and data[offset + 8] == 0xCF):
            found = (offset, 8 + length)
        offset += 8 + length
    check(found is not None, "no log entry in the last segment")
    return found


def main(binary):
    binary = os.path.abspath(binary)
    workdir = tempfile.mkdtemp(prefix="prez-wal-")
    try:
        port = free_port()
        with open(os.path.join(workdir, "prez.conf"), "w") as f:
            f.write(f"port {port}\ndir ./data\n")
        proc, log = start_process(binary, workdir, ["prez.conf"])
        try:
            check(wait_until(lambda: call(port, "SET", "k0", "v0", timeout=1) == "OK", 10), "start")
            for i in range(1, 200):
                check(call(port, "SET", f"k{i}", f"v{i}") == "OK", f"SET k{i}")
        finally:
            stop_process(proc, log)
        segments = sorted(glob.glob(os.path.join(workdir, "data", "log-*.seg")))
        check(segments, "no log segment written")
        last = segments[-1]
        size = os.path.getsize(last)

        # Torn tail: cut the last log entry in half (past it is only the sync mark written after
        # its fsync). The write it held was acknowledged only if its fsync finished, so cut into
        # the final entry (the last SET, k199) and expect k198.
        with open(last, "rb") as f:
            start, length = last_entry_record(f.read())
        check(start + length == size or size - (start + length) == 17,
              f"unexpected bytes after the last entry: {size - start - length}")
        with open(last, "r+b") as f:
            f.truncate(start + length // 2)
        proc, log = start_process(binary, workdir, ["prez.conf"])
        try:
            check(wait_until(lambda: call(port, "GET", "k198", timeout=1) == "v198", 10),
                  "earlier writes not served after a torn tail")
            print("torn tail: truncated at start, earlier writes intact")
        finally:
            stop_process(proc, log)

        # Corruption in the middle: flip a byte a third of the way in.
        size = os.path.getsize(last)
        with open(last, "r+b") as f:
            f.seek(size // 3)
            b = f.read(1)
            f.seek(size // 3)
            f.write(bytes([b[0] ^ 0x5A]))
        p = subprocess.run([binary, "prez.conf"], cwd=workdir, capture_output=True, text=True,
                           timeout=20)
        out = p.stdout + p.stderr
        check(p.returncode != 0, f"started on a corrupted log: {out!r}")
        check("refus" in out and "log-" in out, f"message does not name the file/refusal: {out!r}")
        print(f"corruption in the middle refused: {out.strip().splitlines()[-1]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
