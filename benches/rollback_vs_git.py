#!/usr/bin/env python3
"""Creating a revert and a rollback on the 100,000-commit benchmark repository.

Uses the repository of gen_history_repo.py (generated once into WORKDIR, reused when
present) and measures, each as the median of RUNS runs of the binary as a process:
  * `revert LATEST --reason bench`: the newest commit that touched envs/env3 (nothing
    later changed its file, so it reverts cleanly), opened as a promotion;
  * `rollback --env env3 --to OLD --reason bench`, OLD being the commit 50,000 back: the
    whole environment set back across half the history;
  * both again on a copy of the repository with a commit-graph (`git commit-graph write
    --reachable`, what `git gc` and `git maintenance` keep up to date): proving that OLD
    is on main walks 50,000 commits, and the commit-graph is what makes that walk cheap;
  * `rollback --env env3 --to OLD_CHANGE`, OLD_CHANGE being the newest commit at or
    before main~50000 that changed env3, right after `tollgate history --env env3` (the
    TUI's `T` and `tollgate history` offer exactly such commits): the history index says
    it is on main, so nothing is walked, commit-graph or not;
  * for scale, `git rev-list --count OLD..main` on the repository without one: the same
    walk, done by git.
After each run the promotion branch it created is deleted with `git update-ref -d`, so
every run starts from the same refs (the objects it wrote stay; they are inert).

usage: rollback_vs_git.py [TOLLGATE_BINARY] [RUNS] [WORKDIR]
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def timed(argv, env):
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{argv} failed: {result.stderr}")
    return elapsed


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/tollgate-history-bench"
    repo = os.path.join(work, "hist.git")
    if not os.path.exists(repo):
        os.makedirs(work, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_history_repo.py"), repo], check=True)
    graph_repo = os.path.join(work, "hist-graph.git")
    if not os.path.exists(graph_repo):
        shutil.copytree(repo, graph_repo)
        git(graph_repo, "commit-graph", "write", "--reachable")
    latest = git(repo, "log", "-1", "--format=%H", "main", "--", "envs/env3")
    old = git(repo, "rev-parse", "main~50000")

    def measure(path, argv, branch):
        config = os.path.join(work, "rollback-config.yaml")
        with open(config, "w") as f:
            f.write(f"identity: \"Bench <bench@example.com>\"\nrepos:\n  - name: bench\n    path: {path}\n")
        env = dict(os.environ, TOLLGATE_CONFIG=config, XDG_CACHE_HOME=os.path.join(work, "cache"))
        times = []
        for _ in range(runs):
            times.append(timed([binary, *argv], env))
            subprocess.run(["git", "-C", path, "update-ref", "-d", f"refs/heads/{branch}"], capture_output=True)
        return statistics.median(times)

    revert_argv = ["revert", latest, "--reason", "bench", "--json"]
    revert_branch = f"promote/revert-{latest[:10]}"
    rollback_argv = ["rollback", "--env", "env3", "--to", old, "--reason", "bench", "--json"]
    rollback_branch = f"promote/rollback-env3-{old[:10]}"
    old_change = git(repo, "log", "-1", "--format=%H", "main~50000", "--", "envs/env3")
    change_argv = ["rollback", "--env", "env3", "--to", old_change, "--reason", "bench", "--json"]
    change_branch = f"promote/rollback-env3-{old_change[:10]}"
    for label, path in [("no commit-graph", repo), ("commit-graph", graph_repo)]:
        revert = measure(path, revert_argv, revert_branch)
        rollback = measure(path, rollback_argv, rollback_branch)
        # Look at the history first, as the TUI does before `T` (this writes the index).
        subprocess.run([binary, "history", "--env", "env3"], capture_output=True, check=True,
                       env=dict(os.environ, TOLLGATE_CONFIG=os.path.join(work, "rollback-config.yaml"),
                                XDG_CACHE_HOME=os.path.join(work, "cache")))
        from_history = measure(path, change_argv, change_branch)
        print(f"{label}:")
        print(f"  revert of the newest env3 commit:                  {revert * 1000:7.1f} ms (target < 200 ms)")
        print(f"  rollback of env3 to main~50000:                    {rollback * 1000:7.1f} ms (target < 200 ms)")
        print(f"  rollback of env3 to its change near main~50000,")
        print(f"    picked from its history (index warm):            {from_history * 1000:7.1f} ms (target < 200 ms)")
    start = time.perf_counter()
    for _ in range(runs):
        git(repo, "rev-list", "--count", f"{old}..main")
    walk = (time.perf_counter() - start) / runs
    print(f"git rev-list --count OLD..main, no commit-graph: {walk * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
