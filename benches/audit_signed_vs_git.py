#!/usr/bin/env python3
"""`audit verify` of a branch where every merge is signed, against `git log` in one run.

Generates the repository once with the `gen_signed_repo` example (PROMOTIONS signed
merges, each bringing in one promotion commit, so twice as many commits; every approval
a signed note; packed, no commit-graph), then times, taking turns:
  * `tollgate audit verify --format csv` of the whole branch: every merge's commit
    signature and its approval's signature verified, its tree checked against the
    approved head, its approvals counted;
  * `git log --first-parent --format=%H main -- envs` over the same line (which verifies
    nothing: `git log --show-signature` would run ssh-keygen once per commit).
Prints each run's ratio and the medians.

usage: audit_signed_vs_git.py [TOLLGATE_BINARY] [RUNS] [WORKDIR] [PROMOTIONS]
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def timed(argv, ok_codes=(0,)):
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        code = subprocess.run(argv, stdout=devnull, stderr=devnull).returncode
    if code not in ok_codes:
        sys.exit(f"{argv} failed with {code}")
    return time.perf_counter() - start


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/tollgate-signed-bench"
    promotions = sys.argv[4] if len(sys.argv) > 4 else "50000"
    repo = os.path.join(work, "signed.git")
    if not os.path.exists(repo):
        os.makedirs(work, exist_ok=True)
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "gen_signed_repo", "--", repo, promotions],
            cwd=ROOT,
            check=True,
        )
    config = os.path.join(work, "config.yaml")
    audit = [binary, "--config", config, "audit", "verify", "--format", "csv"]
    git = ["git", "-C", repo, "-c", "core.commitGraph=false", "log", "--first-parent", "--format=%H", "main", "--", "envs"]
    # The first commit is initial, every merge compliant: the audit exits 0.
    audits, gits = [], []
    for i in range(runs):
        audits.append(timed(audit))
        gits.append(timed(git))
        print(f"run {i + 1}: audit {audits[-1] * 1000:.0f} ms, git {gits[-1] * 1000:.0f} ms, {audits[-1] / gits[-1]:.2f}x", flush=True)
    a, g = statistics.median(audits), statistics.median(gits)
    print(f"median: audit verify {a * 1000:.0f} ms, git log --first-parent {g * 1000:.0f} ms, {a / g:.2f}x")


if __name__ == "__main__":
    main()
