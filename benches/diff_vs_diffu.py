#!/usr/bin/env python3
"""Whole-process `tollgate diff --json` against `diff -u` on the same two files, in one run.

Commits argo-cd's install.yaml v2.14.0 and v3.0.0 (../shared/corpus) into a temporary
repository as one environment, then times, interleaved, RUNS rounds of
  diff -u v2.14.0/install.yaml v3.0.0/install.yaml
  tollgate diff A..B --json
and reports the medians, their ratio, and tollgate's peak resident memory against the
size of the two inputs.

usage: diff_vs_diffu.py [TOLLGATE_BINARY] [RUNS]
"""
import os
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
    """Run once; return (seconds, peak RSS in KiB)."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # diff exits 1 when the files differ
        sys.exit(f"{argv[0]} failed with {code}")
    return elapsed, usage.ru_maxrss


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
        t_times, d_times, peaks = [], [], []
        for _ in range(runs):
            elapsed, peak = run(tollgate)
            t_times.append(elapsed)
            peaks.append(peak)
            d_times.append(run(diff_u)[0])
        t, d = statistics.median(t_times), statistics.median(d_times)
        inputs = os.path.getsize(OLD) + os.path.getsize(NEW)
        peak = max(peaks) * 1024
        print(f"argo-cd install.yaml v2.14.0 -> v3.0.0, {runs} interleaved runs each")
        print(f"  diff -u              median {d * 1000:8.1f} ms")
        print(f"  tollgate diff --json median {t * 1000:8.1f} ms   ratio {t / d:.2f}x (target <= 3x)")
        print(f"  tollgate peak RSS {peak / 1e6:.1f} MB = {peak / inputs:.2f}x the inputs ({inputs / 1e6:.2f} MB; target < 5x)")


if __name__ == "__main__":
    main()
