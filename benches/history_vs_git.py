#!/usr/bin/env python3
"""Environment history on a 100,000-commit repository, against `git log` in one run.

Generates the repository with gen_history_repo.py (once; reused when present), then
measures, for environment env3 (about 8,700 of the 100,000 commits touch it):
  * the first page of 50 (`history --env env3 --limit 50`), no index;
  * the full path-only history, cold (no index), against
    `git log --format=%H main -- envs/env3` (no commit-graph on either side);
  * the same again with the index the cold run wrote;
  * `audit verify` of every environment over the whole branch, against
    `git log --first-parent --format=%H main -- envs` (the same commits to look at).
Each figure is the median of RUNS runs.

usage: history_vs_git.py [TOLLGATE_BINARY] [RUNS] [WORKDIR]
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(argv, env=None, ok_codes=(0,)):
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        code = subprocess.run(argv, stdout=devnull, stderr=devnull, env=env).returncode
    if code not in ok_codes:
        sys.exit(f"{argv} failed with {code}")
    return time.perf_counter() - start


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/tollgate-history-bench"
    repo = os.path.join(work, "hist.git")
    if not os.path.exists(repo):
        os.makedirs(work, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_history_repo.py"), repo], check=True)
    config = os.path.join(work, "config.yaml")
    cache = os.path.join(work, "cache")
    env = dict(os.environ, XDG_CACHE_HOME=cache)

    def cold(args):
        shutil.rmtree(cache, ignore_errors=True)
        return timed([binary, "--config", config, "history", "--env", "env3"] + args, env)

    git = ["git", "-C", repo, "-c", "core.commitGraph=false", "log", "--format=%H", "main", "--", "envs/env3"]
    git_fp = ["git", "-C", repo, "-c", "core.commitGraph=false", "log", "--first-parent", "--format=%H", "main", "--", "envs"]
    # The generated history has no approvals, so every change is a violation (exit 1).
    audit = [binary, "--config", config, "audit", "verify", "--format", "csv"]
    page, full, warm, git_times, audits, git_fp_times = [], [], [], [], [], []
    for _ in range(runs):
        page.append(cold(["--limit", "50"]))
        git_times.append(timed(git))
        full.append(cold(["--path-only"]))
        warm.append(timed([binary, "--config", config, "history", "--env", "env3", "--path-only"], env))
        audits.append(timed(audit, env, ok_codes=(3,)))
        git_fp_times.append(timed(git_fp))
    g = statistics.median(git_times)
    print(f"100,000 commits, 10 environments; env3; median of {runs}")
    print(f"  first page of 50, no index     {statistics.median(page) * 1000:8.1f} ms (target < 50 ms)")
    print(f"  git log -- envs/env3            {g * 1000:8.1f} ms")
    f = statistics.median(full)
    print(f"  full path-only history, cold    {f * 1000:8.1f} ms = {f / g:.2f}x git (target <= 1.5x)")
    w = statistics.median(warm)
    print(f"  full path-only history, indexed {w * 1000:8.1f} ms = {w / g * 100:.1f}% of git (target < 10%)")
    a, gf = statistics.median(audits), statistics.median(git_fp_times)
    print(f"  git log --first-parent -- envs  {gf * 1000:8.1f} ms")
    print(f"  audit verify, all environments  {a * 1000:8.1f} ms = {a / gf:.2f}x git (target <= 3x)")


if __name__ == "__main__":
    main()
