#!/usr/bin/env python3
"""`cmake --install` into a temporary prefix: prez-server and prez-ctl in bin (prez-ctl --help
runs, a usage error exits 2), the sample configuration in share/prez, the systemd unit in
lib/systemd/system (the unit itself is checked by test_systemd_unit.py).
Usage: test_install.py PATH/TO/prez-server (in the build directory to install from)"""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

from prez_harness import check

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(server):
    build_dir = os.path.dirname(os.path.abspath(server))
    cmake = shutil.which("cmake")
    check(cmake is not None, "cmake not found")
    with tempfile.TemporaryDirectory(prefix="prez-install-") as prefix:
        proc = subprocess.run([cmake, "--install", build_dir, "--prefix", prefix],
                              capture_output=True, text=True, timeout=120)
        check(proc.returncode == 0, f"cmake --install failed: {proc.stdout}{proc.stderr}")
        expected = ["bin/prez-server", "bin/prez-ctl", "share/prez/prez.conf.sample",
                    "share/prez/nodes.conf.sample", "lib/systemd/system/prez.service"]
        for path in expected:
            check(os.path.isfile(os.path.join(prefix, path)), f"not installed: {path}")
        for binary in ("bin/prez-server", "bin/prez-ctl"):
            check(os.access(os.path.join(prefix, binary), os.X_OK), f"not executable: {binary}")
        help_run = subprocess.run([os.path.join(prefix, "bin/prez-ctl"), "--help"],
                                  capture_output=True, text=True, timeout=30)
        check(help_run.returncode == 0 and "usage: prez-ctl" in help_run.stdout,
              f"installed prez-ctl --help: rc={help_run.returncode} {help_run.stderr!r}")
        usage = subprocess.run([os.path.join(prefix, "bin/prez-ctl"), "bogus"],
                               capture_output=True, text=True, timeout=30)
        check(usage.returncode == 2, f"usage error exits 2, not {usage.returncode}")
        source_unit = os.path.join(SOURCE_DIR, "packaging", "systemd", "prez.service")
        check(filecmp.cmp(source_unit, os.path.join(prefix, "lib/systemd/system/prez.service"),
                          shallow=False), "installed unit differs from packaging/systemd")
    print("install: bin/prez-server, bin/prez-ctl (--help runs), share/prez samples, "
          "lib/systemd/system/prez.service ok")


if __name__ == "__main__":
    main(sys.argv[1])
