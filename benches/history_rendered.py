#!/usr/bin/env python3
"""`history --rendered` over 100 candidate commits: one render at a time, one per core,
and a second (warm) look, in one run.

Builds a repository with git: a kustomize overlay `envs/prod` on a shared `base/`, and
COMMITS commits on main that each change the overlay's image tag or the base's replicas
(every one a candidate, every one a rendered change), packed as a clone is. Then times, taking turns, each
with its own fresh cache dir:
  * cold, `TOLLGATE_RENDER_JOBS=1`: one render at a time;
  * cold, the default (two render threads per core);
  * warm: the default run again on the cache the previous run filled.
Prints each run's times and the medians, and the two ratios the issue names.

usage: history_rendered.py [TOLLGATE_BINARY] [RUNS] [WORKDIR] [COMMITS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")

BASE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {{app: api}}
  ports:
  - port: 80
    targetPort: 8080
"""

OVERLAY = """resources:
- ../../base
namespace: shop
images:
- name: ghcr.io/acme/api
  newTag: "{tag}"
"""


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.DEVNULL)


def build(work, commits):
    repo = os.path.join(work, "env")
    if os.path.isdir(repo):
        return repo
    os.makedirs(os.path.join(repo, "base"))
    os.makedirs(os.path.join(repo, "envs", "prod"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Bench")
    git(repo, "config", "user.email", "bench@example.com")
    with open(os.path.join(repo, "base", "kustomization.yaml"), "w") as f:
        f.write("resources:\n- app.yaml\n")

    def write(replicas, tag):
        with open(os.path.join(repo, "base", "app.yaml"), "w") as f:
            f.write(BASE.format(replicas=replicas))
        with open(os.path.join(repo, "envs", "prod", "kustomization.yaml"), "w") as f:
            f.write(OVERLAY.format(tag=tag))

    write(1, "1.0.0")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    for n in range(commits):
        if n % 2:
            write(2 + n, f"1.0.{n}")
        else:
            write(1 + n, f"1.1.{n}")
        git(repo, "commit", "-q", "-am", f"change {n}")
    # A clone is packed; loose objects would cost an open and a map each.
    git(repo, "gc", "-q")
    return repo


def timed(binary, config, cache, jobs):
    env = dict(os.environ, XDG_CACHE_HOME=cache, NO_COLOR="1")
    env.pop("TOLLGATE_RENDER_JOBS", None)
    if jobs:
        env["TOLLGATE_RENDER_JOBS"] = str(jobs)
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "--config", config, "history", "--env", "prod", "--rendered", "--json"],
        env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"history failed: {out.stderr}")
    return elapsed, out.stdout.count('"sha"')


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/tollgate-history-rendered-bench"
    commits = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    os.makedirs(work, exist_ok=True)
    repo = build(work, commits)
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(f"repos:\n  - name: bench\n    path: {repo}\n")
    sequential, parallel, warm = [], [], []
    for run in range(runs):
        caches = [tempfile.mkdtemp(prefix="tollgate-bench-cache-") for _ in range(2)]
        one, entries = timed(binary, config, caches[0], 1)
        many, entries_many = timed(binary, config, caches[1], None)
        again, entries_again = timed(binary, config, caches[1], None)
        if not entries == entries_many == entries_again:
            sys.exit(f"the runs disagree: {entries}, {entries_many}, {entries_again} entries")
        for cache in caches:
            shutil.rmtree(cache)
        sequential.append(one)
        parallel.append(many)
        warm.append(again)
        print(f"run {run + 1}: {entries} entries; one at a time {one * 1000:.0f} ms, "
              f"parallel {many * 1000:.0f} ms, warm {again * 1000:.0f} ms")
    s, p, w = (statistics.median(x) for x in (sequential, parallel, warm))
    print(f"median: one at a time {s * 1000:.0f} ms, parallel {p * 1000:.0f} ms "
          f"({s / p:.2f}x faster), warm {w * 1000:.0f} ms ({100 * w / p:.1f}% of cold)")


if __name__ == "__main__":
    main()
