"""Shared by bench/agent.py and bench/integrity.py: the iCloud simulator with one account linked by
the release CLI into a fresh data dir, and its clean-up."""

import os
import re
import shutil
import subprocess
import tempfile

PASSWORD = "abcd-efgh-ijkl-mnop"
APPLE_ID = "demo@example.com"


class Linked:
    """`with Linked(sim_bin, cli, events_per_calendar, namespace, extra_env) as l:` gives `l.data`
    (the data dir) and `l.env` (the environment to run the app or CLI with)."""

    def __init__(self, sim_bin, cli, events_per_calendar, namespace, extra_env=None):
        self.sim_bin, self.cli, self.events = sim_bin, cli, events_per_calendar
        self.work = tempfile.mkdtemp(prefix=f"{namespace}-")
        self.data = os.path.join(self.work, "data")
        self.env = dict(os.environ, CALENDAR_CONNECTOR_KEYRING_NAMESPACE=namespace, **(extra_env or {}))
        self.sim = None

    def __enter__(self):
        self.sim = subprocess.Popen(
            [self.sim_bin, "--port", "0", "--events-per-calendar", str(self.events), "--password-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.sim.stdin.write(PASSWORD + "\n")
        self.sim.stdin.close()
        front = re.search(r"front=(\S+)", self.sim.stdout.readline()).group(1)
        try:
            subprocess.run([self.cli, "--data-dir", self.data, "--server-url", front, "link",
                            "--apple-id", APPLE_ID, "--password-stdin"], input=PASSWORD, text=True,
                           env=self.env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run([self.cli, "--data-dir", self.data, "unlink", "--apple-id", APPLE_ID],
                       env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.sim:
            self.sim.terminate()
        shutil.rmtree(self.work, ignore_errors=True)
        return False
