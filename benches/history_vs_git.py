#!/usr/bin/env python3
"""Environment history against `git log` in one run, without and with a commit-graph.

Generates the repositories with gen_history_repo.py (once; reused when present):
  * 100,000 commits, 10 environments; env3 is changed by about 8,700 of them;
  * the same repository with a commit-graph and changed-path Bloom filters
    (`git commit-graph write --reachable --changed-paths`, what `git maintenance` keeps);
  * 250,000 commits with an eleventh environment `rare` changed once every 25,000
    commits, with a commit-graph and its filters: the rarely changed path of a large
    repository.
and measures, each the median of RUNS runs, wall and CPU time (tollgate walks on two
threads where git uses one):
  * without a graph: the first page of 50 (`history --env env3 --limit 50`); the full
    path-only history, cold (no index), against `git log --format=%H main -- envs/env3`
    (`core.commitGraph=false` for git); the same again with the index the cold run
    wrote; `audit verify` of every environment against `git log --first-parent -- envs`;
  * with the graph: the cold path-only and inputs history of env3, and of `rare` in the
    large repository, against `git log --format=%H main -- PATH` using the same graph.

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
    """Run once with output discarded; (wall seconds, CPU seconds)."""
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=devnull, stderr=devnull, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        sys.exit(f"{argv} failed with {code}")
    return wall, usage.ru_utime + usage.ru_stime


def generate(work, name, args=()):
    """The repository `work/name` (generated once) and a config naming it."""
    repo = os.path.join(work, name)
    if not os.path.exists(repo):
        os.makedirs(work, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_history_repo.py"), repo, *args], check=True)
    config = os.path.join(work, name + ".yaml")
    with open(config, "w") as f:
        f.write(f"repos:\n  - name: bench\n    path: {os.path.abspath(repo)}\n")
    return repo, config


def with_graph(repo):
    """A copy of `repo` with a commit-graph and changed-path filters (made once)."""
    copy = repo[: -len(".git")] + "-graph.git"
    if not os.path.exists(copy):
        shutil.copytree(repo, copy)
        subprocess.run(["git", "-C", copy, "commit-graph", "write", "--reachable", "--changed-paths"], check=True)
    config = copy[: -len(".git")] + ".yaml"
    with open(config, "w") as f:
        f.write(f"repos:\n  - name: bench\n    path: {os.path.abspath(copy)}\n")
    return copy, config


class Figures:
    def __init__(self):
        self.runs = {}

    def add(self, name, measured):
        self.runs.setdefault(name, []).append(measured)

    def wall(self, name):
        return statistics.median(w for w, _ in self.runs[name])

    def cpu(self, name):
        return statistics.median(c for _, c in self.runs[name])

    def line(self, label, name, anchor=None, target=""):
        w, c = self.wall(name), self.cpu(name)
        text = f"  {label:<40} {w * 1000:8.1f} ms wall {c * 1000:8.1f} ms CPU"
        if anchor:
            text += f" = {w / self.wall(anchor):.2f}x / {c / self.cpu(anchor):.2f}x git"
        print(text + (f" ({target})" if target else ""))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/tollgate-history-bench"
    repo, config = generate(work, "hist.git")
    graph_repo, graph_config = with_graph(repo)
    large, _ = generate(work, "large.git", ["250000", "25000"])
    large_graph, large_config = with_graph(large)
    cache = os.path.join(work, "cache")
    env = dict(os.environ, XDG_CACHE_HOME=cache)

    def tollgate(config, args, ok_codes=(0,)):
        return timed([binary, "--config", config, *args], env, ok_codes)

    def cold(config, args):
        shutil.rmtree(cache, ignore_errors=True)
        return tollgate(config, args)

    def git_log(repo, path, graph=True, first_parent=False):
        argv = ["git", "-C", repo]
        if not graph:
            argv += ["-c", "core.commitGraph=false"]
        argv += ["log", "--format=%H"] + (["--first-parent"] if first_parent else []) + ["main", "--", path]
        return timed(argv)

    f = Figures()
    for _ in range(runs):
        # Without a commit-graph on either side.
        f.add("page", cold(config, ["history", "--env", "env3", "--limit", "50"]))
        f.add("git", git_log(repo, "envs/env3", graph=False))
        f.add("full", cold(config, ["history", "--env", "env3", "--path-only"]))
        f.add("warm", tollgate(config, ["history", "--env", "env3", "--path-only"]))
        # The generated history has no approvals: audit refuses it (exit 3).
        f.add("audit", tollgate(config, ["audit", "verify", "--format", "csv"], ok_codes=(3,)))
        f.add("git fp", git_log(repo, "envs", graph=False, first_parent=True))
        # With a commit-graph and its changed-path filters on both sides.
        f.add("git graph", git_log(graph_repo, "envs/env3"))
        f.add("graph path", cold(graph_config, ["history", "--env", "env3", "--path-only"]))
        f.add("graph inputs", cold(graph_config, ["history", "--env", "env3"]))
        f.add("git rare", git_log(large_graph, "envs/rare"))
        f.add("rare path", cold(large_config, ["history", "--env", "rare", "--path-only"]))
        f.add("rare inputs", cold(large_config, ["history", "--env", "rare"]))
    print(f"100,000 commits, 10 environments, no commit-graph; env3; median of {runs}")
    f.line("first page of 50, no index", "page", target="target < 50 ms")
    f.line("git log -- envs/env3", "git")
    f.line("full path-only history, cold", "full", "git", "target <= 1.5x")
    f.line("full path-only history, indexed", "warm", "git", "target < 10% of git")
    f.line("git log --first-parent -- envs", "git fp")
    f.line("audit verify, all environments", "audit", "git fp", "target <= 3x")
    print("the same with a commit-graph and changed-path filters")
    f.line("git log -- envs/env3", "git graph")
    f.line("path-only history, cold", "graph path", "git graph", "target <= 1.2x")
    f.line("inputs history, cold", "graph inputs", "git graph", "target <= 1.2x")
    print("250,000 commits with a commit-graph and filters; envs/rare (10 changes)")
    f.line("git log -- envs/rare", "git rare")
    f.line("path-only history, cold", "rare path", "git rare", "target <= 1.2x")
    f.line("inputs history, cold", "rare inputs", "git rare", "target <= 1.2x")


if __name__ == "__main__":
    main()
