#!/usr/bin/env python3
"""Every speed figure issue 21 asks for, in one go, so that the next regression shows:

  1. every pair of the shared corpus, JSON and text, against `diff -u`
     (corpus_vs_diffu.py: wall and CPU time, ratios);
  2. time and peak memory against the size of a manifest set (scale_vs_diffu.py);
  3. the inbox's first rows and complete rows with 500 promotions
     (`cargo bench --bench inbox_local`);
  4. an environment's history against `git log` on 100,000 commits, without and with a
     commit-graph and its changed-path filters, and a rarely changed environment in
     250,000 commits (history_vs_git.py).

Each part prints its own table; docs/performance.md says what each target is and where
the time goes. Takes a few minutes (the history repository is generated once and kept).

usage: speed_all.py [TOLLGATE_BINARY] [SIZES_MB]
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def part(title, argv, cwd=None):
    print(f"\n== {title}\n$ {' '.join(argv)}", flush=True)
    code = subprocess.run(argv, cwd=cwd).returncode
    if code != 0:
        sys.exit(f"{title}: exited with {code}")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "tollgate")
    sizes = sys.argv[2] if len(sys.argv) > 2 else "1,5,20"
    python = sys.executable
    part("every corpus pair, JSON and text, against diff -u",
         [python, os.path.join(HERE, "corpus_vs_diffu.py"), binary, "10"])
    part("time and peak memory against the size of the set",
         [python, os.path.join(HERE, "scale_vs_diffu.py"), binary, "1", sizes])
    part("the inbox's first rows, 500 promotions",
         ["cargo", "bench", "--bench", "inbox_local"], cwd=ROOT)
    part("an environment's history against git log, with and without a commit-graph",
         [python, os.path.join(HERE, "history_vs_git.py"), binary, "3"])


if __name__ == "__main__":
    main()
