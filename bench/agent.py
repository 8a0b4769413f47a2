#!/usr/bin/env python3
"""The background agent's cost, measured (issue 16): run by bench/agent.sh inside a private desktop
session (Xvfb, D-Bus, gnome-keyring, dunst), against the iCloud simulator.

1. Links one account with the release CLI, then starts the release desktop app as login does
   (`--hidden`; on Linux it becomes the tray agent, calendar-connector-agent) and samples every
   process of the app (the agent, any window process, and their descendants, e.g. WebKit's) for
   --minutes: the sum of PSS (/proc/PID/smaps_rollup), CPU time and context switches (each a wake-up
   of a thread).
2. Opens the window from the tray as a panel does (the StatusNotifierItem menu's "Open", over D-Bus
   on a connection kept open, as a panel's is: bench/dbuswire.py),
   once cold (the session's first window), then --opens times warm, interleaved with as many second
   launches; each time it reads the window process's log line "window shown with its content" (the
   window is created hidden and shows only with its page's first content) and the time from the
   click; medians and ranges are reported. Samples PSS with the window open, then closes it (as
   the window manager would: xdotool) and samples again.
3. Binary sizes, stripped.

Prints one JSON object; `--markdown` prints the table bench/RESULTS.md carries.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from dbuswire import SessionBus
from simlink import Linked

PAGE = os.sysconf("SC_PAGE_SIZE")
CLK = os.sysconf("SC_CLK_TCK")


def children_of(pid):
    """pid and all its descendants (by /proc/*/stat ppid)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
        except OSError:
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except OSError:
        return 0.0


def switches(pid):
    """Context switches (each one a wake-up or a preemption) of each thread: {(pid, tid): count}."""
    out = {}
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            total = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
            out[(pid, tid)] = total
    except OSError:
        pass
    return out


def sample(pids_fn):
    pids = pids_fn()
    names = {}
    for p in pids:
        try:
            with open(f"/proc/{p}/comm") as f:
                names[p] = f.read().strip()
        except OSError:
            pass
    return {
        "pss_mib": sum(pss_kib(p) for p in pids) / 1024,
        "cpu_s": sum(cpu_s(p) for p in pids),
        "switches": {k: v for p in pids for k, v in switches(p).items()},
        "processes": sorted(names.values()),
    }


def watch(pids_fn, seconds, every=10):
    first = sample(pids_fn)
    peak = first["pss_mib"]
    samples = [first["pss_mib"]]
    # Per thread, so a thread that ends does not take its count out of the sum: a thread seen first
    # later started within the window (its count is all new); one that ended keeps its last count.
    base = dict(first["switches"])
    seen = dict(first["switches"])

    def count(s):
        for k, v in s["switches"].items():
            base.setdefault(k, 0)
            seen[k] = v
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(min(every, max(0.1, end - time.time())))
        s = sample(pids_fn)
        count(s)
        samples.append(s["pss_mib"])
        peak = max(peak, s["pss_mib"])
    last = sample(pids_fn)
    count(last)
    minutes = seconds / 60
    return {
        "seconds": seconds,
        "pss_mib_mean": sum(samples) / len(samples),
        "pss_mib_peak": peak,
        "cpu_s": last["cpu_s"] - first["cpu_s"],
        "wakeups_per_min": sum(seen[k] - base[k] for k in seen) / minutes if minutes else 0,
        "processes": last["processes"],
    }


def stripped_size(path):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bin")
        shutil.copy(path, out)
        subprocess.run(["strip", out], check=True)
        return os.path.getsize(out)


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def app_processes(exes):
    """Every process of the app: those running one of `exes` (agent, window processes) and their
    descendants (WebKit's)."""
    real = {os.path.realpath(e) for e in exes}
    roots = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.path.realpath(f"/proc/{d}/exe") in real:
                    roots.append(int(d))
            except OSError:
                continue
    out = set()
    for r in roots:
        out.update(children_of(r))
    return sorted(out)


def gdbus(*args):
    return subprocess.run(["gdbus", "call", "--session", *args], capture_output=True, text=True,
                          check=True).stdout


def tray_open_item(agent_pid):
    """The agent's tray item and the id of "Open Calendar Connector" in its menu, as a tray host
    knows them before anybody clicks."""
    names = gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                  "--method", "org.freedesktop.DBus.ListNames")
    m = re.search(rf"org\.kde\.StatusNotifierItem-{agent_pid}-\d+", names)
    if not m:
        raise SystemExit("the agent's tray item is not on the bus")
    item = m.group(0)
    layout = gdbus("--dest", item, "--object-path", "/MenuBar", "--method",
                   "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "@as []")
    mid = re.search(r"\((\d+), \{[^}]*'label': <'Open Calendar Connector'>", layout).group(1)
    return item, mid


_bus = None


def tray_click(item, mid):
    """The click: the Event call a tray host makes, on a connection already open as a tray host's
    is. Returns the time it was sent."""
    global _bus
    if _bus is None:
        _bus = SessionBus()
    t0 = time.time()
    serial = _bus.send(item, "/MenuBar", "com.canonical.dbusmenu", "Event", "isvu",
                       (int(mid), "clicked", ("i", 0), 0))
    _bus.wait_reply(serial)
    return t0


def log_time(line):
    """The timestamp tracing put at the start of a log line, in seconds since the epoch."""
    stamp = line.split()[0].replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(stamp).timestamp()


def close_windows():
    wins = subprocess.run(["xdotool", "search", "--name", "^Calendar Connector$"],
                          capture_output=True, text=True).stdout.split()
    for w in wins:
        subprocess.run(["xdotool", "windowclose", w], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default="target/release")
    ap.add_argument("--sim", default="target/release/icloud-sim")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--events", type=int, default=500, help="events per calendar on the simulator")
    ap.add_argument("--opens", type=int, default=5, help="warm opens of each kind (medians reported)")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()

    app = os.path.join(a.bin_dir, "calendar-connector")
    agent = os.path.join(a.bin_dir, "calendar-connector-agent")
    cli = os.path.join(a.bin_dir, "calendar-connector-cli")
    exes = [app, agent]
    result = {}
    agent_proc = None
    linked = Linked(a.sim, cli, a.events, "agent-bench", {"RUST_LOG": "info"})
    with linked:
        data, env = linked.data, linked.env
        try:
            log = os.path.join(data, "logs", "desktop.log")
            agent_proc = subprocess.Popen([app, "--hidden", "--data-dir", data], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(5)  # start-up, the first sync pass
            result["hidden"] = watch(lambda: app_processes(exes), a.minutes * 60)
            print(json.dumps({"hidden": result["hidden"]}), file=sys.stderr, flush=True)

            def open_and_time(how):
                before = os.path.getsize(log) if os.path.exists(log) else 0
                # The click's time is taken as the click is made (the tray's menu is looked up
                # before, as a tray host has it); the window's time is the log line's own timestamp,
                # so neither this script's polling nor its gdbus look-ups count.
                if how == "tray":
                    item, mid = tray_open_item(agent_proc.pid)
                    t0 = tray_click(item, mid)
                else:
                    t0 = time.time()
                    subprocess.Popen([app, "--data-dir", data], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

                def shown():
                    if not os.path.exists(log):
                        return None
                    with open(log, errors="replace") as f:
                        f.seek(before)
                        for line in f:
                            m = re.search(r"window shown with its content.*?ms=(\d+)", line)
                            if m:
                                return log_time(line), int(m.group(1))
                    return None
                at, inner = wait_for(shown, 60, "the window to show")
                return {"from_click_ms": round((at - t0) * 1000), "from_window_creation_ms": inner}

            def window_processes():
                return app_processes([app])

            # The session's first window, then warm opens from the tray and by a launch, interleaved
            # so both meet the same conditions.
            opens = {"tray_cold": [], "tray_warm": [], "launch_warm": []}
            plan = [("tray", "tray_cold")] + [("tray", "tray_warm"), ("launch", "launch_warm")] * a.opens
            for how, key in plan:
                opens[key].append(open_and_time(how))
                time.sleep(2)
                close_windows()
                wait_for(lambda: not window_processes(), 30, "the window process to end")
                time.sleep(1)
            # The last one stays open for the memory figures.
            opens["launch_warm"].append(open_and_time("launch"))
            result["window_open_ms"] = opens
            time.sleep(3)
            result["window_open"] = watch(lambda: app_processes(exes), 30)
            close_windows()
            wait_for(lambda: not window_processes(), 30, "the window process to end")
            time.sleep(5)
            result["after_close"] = watch(lambda: app_processes(exes), 30)
            result["sizes_stripped_mb"] = {
                "calendar-connector": round(stripped_size(app) / 1e6, 1),
                "calendar-connector-agent": round(stripped_size(agent) / 1e6, 1),
                "calendar-connector-cli": round(stripped_size(cli) / 1e6, 1),
            }
        finally:
            for p in app_processes(exes):
                try:
                    os.kill(p, signal.SIGTERM)
                except OSError:
                    pass
            if agent_proc:
                try:
                    agent_proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    agent_proc.kill()

    if a.markdown:
        h, o, c = result["hidden"], result["window_open"], result["after_close"]
        print("| state | PSS mean (MiB) | PSS peak (MiB) | CPU (s) | wake-ups/min | processes |")
        print("|---|---|---|---|---|---|")
        for name, r in (("no window (start at login)", h), ("window open", o), ("window closed again", c)):
            print(f"| {name} ({r['seconds']:.0f} s) | {r['pss_mib_mean']:.1f} | {r['pss_mib_peak']:.1f} "
                  f"| {r['cpu_s']:.2f} | {r['wakeups_per_min']:.1f} | {', '.join(r['processes'])} |")
        w = result["window_open_ms"]
        s = result["sizes_stripped_mb"]
        def med(samples, k):
            v = sorted(x[k] for x in samples)
            m = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
            return f"{m:.0f}" if len(v) == 1 else f"{m:.0f} [{v[0]}–{v[-1]}]"
        print("\nWindow open (click → window shown with its content; median [range] of each kind; the "
              "window's own share from its creation in brackets): "
              + ", ".join(f"{k.replace('_', ' ')} ×{len(v)}: {med(v, 'from_click_ms')} ms "
                          f"({med(v, 'from_window_creation_ms')} ms)" for k, v in w.items())
              + f". Stripped sizes: desktop {s['calendar-connector']} MB, agent "
              f"{s['calendar-connector-agent']} MB, CLI {s['calendar-connector-cli']} MB.")
    else:
        json.dump(result, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
