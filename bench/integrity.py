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
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time


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
    password = "abcd-efgh-ijkl-mnop"
    work = tempfile.mkdtemp(prefix="integrity-bench-")
    data = os.path.join(work, "data")
    env = dict(os.environ, CALENDAR_CONNECTOR_KEYRING_NAMESPACE="integrity-bench")
    sim = subprocess.Popen(
        [sim_bin, "--port", "0", "--events-per-calendar", str(a.events // 2), "--password-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sim.stdin.write(password + "\n")
    sim.stdin.close()
    front = re.search(r"front=(\S+)", sim.stdout.readline()).group(1)
    try:
        subprocess.run([cli, "--data-dir", data, "--server-url", front, "link", "--apple-id",
                        "demo@example.com", "--password-stdin"], input=password, text=True,
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    finally:
        subprocess.run([cli, "--data-dir", data, "unlink", "--apple-id", "demo@example.com"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sim.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
