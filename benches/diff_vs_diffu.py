#!/usr/bin/env python3
"""Whole-process `tollgate diff --json` against `diff -u` on the same two files, in one run.

Commits argo-cd's install.yaml v2.14.0 and v3.0.0 (../shared/corpus) into a temporary
repository as one environment, then times, interleaved, RUNS rounds of
  diff -u v2.14.0/install.yaml v3.0.0/install.yaml
  tollgate diff A..B --json
and reports the medians, their ratio, and tollgate's peak resident memory against the
size of the two inputs.

Peak memory is ru_maxrss, measured through GNU time (/usr/bin/time): a child forked from
this script would start out with the script's own peak resident size (~17 MB once it has
read the two files), which is above tollgate's. With gdb installed, the peak is also split into anonymous memory (heap, stacks,
relocated data: what the diff allocates) and file-backed pages (the binary's code and
read-only data, and the shared libraries: page cache shared with every other process),
read from /proc when tollgate starts writing its output, the moment of its peak (checked:
VmRSS equals VmHWM there).

usage: diff_vs_diffu.py [TOLLGATE_BINARY] [RUNS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(
    os.environ.get("TOLLGATE_CORPUS", os.path.join(HERE, "..", "..", "shared", "corpus")), "argo-cd"
)
OLD = os.path.join(CORPUS, "v2.14.0", "manifests", "install.yaml")
NEW = os.path.join(CORPUS, "v3.0.0", "manifests", "install.yaml")


def run(argv, cwd=None):
    """Run once; return the seconds it took."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        code = subprocess.run(argv, cwd=cwd, stdout=devnull, check=False).returncode
    elapsed = time.perf_counter() - start
    if code not in (0, 1):  # diff exits 1 when the files differ
        sys.exit(f"{argv[0]} failed with {code}")
    return elapsed


def peak_rss(argv, runs):
    """The largest ru_maxrss of `runs` runs, in bytes, through GNU time."""
    time_binary = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(time_binary):
        sys.exit("peak memory needs GNU time (apt-get install time)")
    peaks = []
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        for _ in range(runs):
            with open(os.devnull, "wb") as devnull:
                subprocess.run([time_binary, "-f", "%M", "-o", report.name, *argv], stdout=devnull, check=False)
            report.seek(0)
            peaks.append(int(report.read().split()[-1]) * 1024)
    return max(peaks)


def peak_split(argv):
    """(VmHWM, RssAnon, RssFile) in KiB when argv first writes to stdout, or None."""
    if shutil.which("gdb") is None:
        return None
    script = (
        "set pagination off\n"
        "catch syscall write\n"
        "condition 1 $rdi == 1\n"
        "run\n"
        "python\n"
        "import gdb\n"
        "status = open(f'/proc/{gdb.selected_inferior().pid}/status').read()\n"
        "print('STATUS', ' '.join(l.split()[0] + l.split()[1] for l in status.splitlines()"
        " if l.startswith(('VmHWM', 'VmRSS', 'RssAnon', 'RssFile'))))\n"
        "end\n"
        "kill\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as commands:
        commands.write(script)
        commands.flush()
        out = subprocess.run(
            ["gdb", "-batch", "-nx", "-x", commands.name, "--args", *argv],
            capture_output=True, text=True,
        ).stdout
    line = next((l for l in out.splitlines() if l.startswith("STATUS ")), None)
    if line is None:
        return None
    fields = dict(f.split(":") for f in line.split()[1:])
    hwm, rss = int(fields["VmHWM"]), int(fields["VmRSS"])
    if rss != hwm:
        return None  # not the peak moment: no split to give
    return hwm, int(fields["RssAnon"]), int(fields["RssFile"])


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        os.makedirs(os.path.join(repo, "envs", "argocd"))
        target = os.path.join(repo, "envs", "argocd", "install.yaml")
        for source in (OLD, NEW):
            with open(source, "rb") as f, open(target, "wb") as out:
                out.write(f.read())
            subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
            subprocess.run(git + ["commit", "-qm", source], cwd=repo, check=True)
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"repos:\n  - name: bench\n    path: {repo}\n")
        tollgate = [binary, "--config", config, "diff", "HEAD~1..HEAD", "--json"]
        diff_u = ["diff", "-u", OLD, NEW]
        run(tollgate)  # warm the page cache
        run(diff_u)
        t_times, d_times = [], []
        for _ in range(runs):
            t_times.append(run(tollgate))
            d_times.append(run(diff_u))
        t, d = statistics.median(t_times), statistics.median(d_times)
        inputs = os.path.getsize(OLD) + os.path.getsize(NEW)
        peak = peak_rss(tollgate, runs)
        print(f"argo-cd install.yaml v2.14.0 -> v3.0.0, {runs} interleaved runs each")
        print(f"  diff -u              median {d * 1000:8.1f} ms")
        print(f"  tollgate diff --json median {t * 1000:8.1f} ms   ratio {t / d:.2f}x (target <= 3x)")
        print(f"  tollgate peak RSS {peak / 1e6:.1f} MB = {peak / inputs:.2f}x the inputs ({inputs / 1e6:.2f} MB; target < 5x)")
        split = peak_split(tollgate)
        if split is None:
            print("  (no gdb, or the peak was not at the output: no anonymous/file split)")
        else:
            hwm, anon, file = (k * 1024 for k in split)
            print(f"  at the peak ({hwm / 1e6:.1f} MB): anonymous {anon / 1e6:.1f} MB = {anon / inputs:.2f}x the inputs,"
                  f" file-backed {file / 1e6:.1f} MB = {file / inputs:.2f}x")


if __name__ == "__main__":
    main()
