#!/usr/bin/env python3
"""A no-change resync at N events (default 50,000) with and without the cache's whole-file integrity
check, side by side in one run (issue 16, point 5). Run inside a keychain session, e.g.

    scripts/ci/with-secret-service.sh python3 bench/integrity.py

after `cargo build --release -p calendar-connector-cli` and
`cargo build --release -p icloud-sim --features testing`.

Each repeat runs `sync` twice on an unchanged server: once as it normally runs after a clean close
(the cache's stamp matches, no check), once with the stamp removed (the check runs, as after an
unclean shutdown or an upgrade). Reports the median CPU (user+sys) of each and their ratio.
"""

import argparse
import os
import resource
import statistics
import subprocess
import time

from simlink import Linked


def cpu_of(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--bin-dir", default="target/release")
    a = ap.parse_args()
    cli = os.path.join(a.bin_dir, "calendar-connector-cli")
    sim_bin = os.path.join(a.bin_dir, "icloud-sim")
    with Linked(sim_bin, cli, a.events // 2, "integrity-bench") as linked:
        data, env = linked.data, linked.env
        stamp = os.path.join(data, "cache.sqlite3.clean")
        sync = [cli, "--data-dir", data, "sync"]
        cpu_of(sync, env)  # warm the page cache
        skipped, checked = [], []
        for _ in range(a.repeats):
            assert os.path.exists(stamp), "a clean close leaves the stamp"
            skipped.append(cpu_of(sync, env)[0])
            os.remove(stamp)
            checked.append(cpu_of(sync, env)[0])
        size = os.path.getsize(os.path.join(data, "cache.sqlite3")) / 1e6
        s, c = statistics.median(skipped), statistics.median(checked)
        print(f"no-change resync at {a.events} events ({size:.0f} MB cache), median of {a.repeats}:")
        print(f"  after a clean close (no check): {s * 1000:.0f} ms CPU")
        print(f"  with the integrity check:       {c * 1000:.0f} ms CPU ({c / s:.2f}x)")

if __name__ == "__main__":
    main()
