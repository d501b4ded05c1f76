#!/usr/bin/env python3
"""CPU of an idle TUI: 10 repos configured, nothing changing, for a minute.

Writes the demo workspace (`tollgate demo init`), a config listing its repos five times
each under different names (10 repos, polled every ten seconds), opens the TUI in a tmux
window of its own, lets it load, then reads the process's utime+stime from
/proc/PID/stat before and after SECONDS seconds and prints the average use of one core.

usage: tui_idle_cpu.py [TOLLGATE_BINARY] [SECONDS]
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate"))
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    work = tempfile.mkdtemp(prefix="tollgate-idle-")
    demo = os.path.join(work, "demo")
    subprocess.run([binary, "demo", "init", demo], check=True, stdout=subprocess.DEVNULL)
    repos = [d for d in sorted(os.listdir(os.path.join(demo, "repos"))) if d.endswith(".git")]
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write("repos:\n")
        for copy in range(5):
            for repo in repos:
                name = repo.removesuffix(".git")
                f.write(f"  - name: {name}{copy}\n    path: {os.path.join(demo, 'repos', repo)}\n")
    socket = f"tollgate-idle-{os.getpid()}"
    env = f"HOME={work} XDG_CACHE_HOME={work}/cache XDG_STATE_HOME={work}/state TOLLGATE_IDENTITY='Dana Ops <dana@example.com>'"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-x", "120", "-y", "40",
                    "sh", "-c", f"{env} {binary} --config {config}; sleep 5"], check=True)
    try:
        time.sleep(10)  # load every repo
        pid = subprocess.run(["pgrep", "-f", f"^{binary} --config {config}"],
                             capture_output=True, text=True).stdout.split()[0]
        hz = os.sysconf("SC_CLK_TCK")
        before, start = cpu_ticks(pid), time.monotonic()
        time.sleep(seconds)
        after, elapsed = cpu_ticks(pid), time.monotonic() - start
        used = (after - before) / hz
        print(f"{len(repos) * 5} repos, idle {elapsed:.0f} s: {used:.2f} s of CPU = "
              f"{100 * used / elapsed:.2f}% of one core (target < 1%)")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
