#!/usr/bin/env python3
"""Time and peak memory of `tollgate diff` on manifest sets of growing size, against
`diff -ur` on the same folders, in one run.

For each size (MB of one version), a plain environment of Deployments, Services and
ConfigMaps (100 objects to a file) is committed, then a second version in which a few
hundred objects change (an image tag, a replica count, a ConfigMap value), as a
promotion usually does. RUNS interleaved runs time
  diff -ur OLD NEW
  tollgate diff A..B --json
  tollgate diff A..B          (text)
and GNU time gives each one's peak resident memory. Memory is reported against the size
of one version (the issue's measure) and of both (what a diff must at least read).

usage: scale_vs_diffu.py [TOLLGATE_BINARY] [RUNS] [SIZES_MB, comma-separated]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PER_FILE = 100
CHANGED = 300

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{ns}
  labels:
    app.kubernetes.io/name: svc-{i}
    app.kubernetes.io/part-of: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: svc-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: svc-{i}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/svc-{i}:{tag}
        args: ["--port=8080", "--log-level=info"]
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: DATABASE_URL
          value: postgres://db-{ns}.internal:5432/svc_{i}
        - name: FEATURE_FLAGS
          value: "checkout,search,recommendations"
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 512Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 10
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: team-{ns}
spec:
  selector:
    app.kubernetes.io/name: svc-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: svc-{i}-config
  namespace: team-{ns}
data:
  LOG_LEVEL: {level}
  CACHE_TTL: "300"
  description: >-
    Settings of svc-{i}, written by the platform team; see the runbook for what each
    one does before changing it.
"""


def documents(count, changed):
    """The documents of one version; objects in `changed` differ from the base."""
    for n in range(count):
        i, kind = divmod(n, 3)
        ns = i % 40
        moved = n in changed
        if kind == 0:
            yield DEPLOYMENT.format(i=i, ns=ns, replicas=3 if moved else 2, tag="1.5.0" if moved else "1.4.2")
        elif kind == 1:
            yield SERVICE.format(i=i, ns=ns)
        else:
            yield CONFIGMAP.format(i=i, ns=ns, level="debug" if moved else "info")


def write_version(folder, count, changed):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    docs = list(documents(count, changed))
    for start in range(0, len(docs), PER_FILE):
        with open(os.path.join(folder, f"part-{start // PER_FILE:05}.yaml"), "w") as f:
            f.write("---\n".join(docs[start:start + PER_FILE]))


def size_of(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def measure(argv):
    """(wall seconds, CPU seconds, peak RSS bytes) of one run."""
    time_binary = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report, open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        child = subprocess.Popen([time_binary, "-f", "%M", "-o", report.name, *argv], stdout=devnull)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            sys.exit(f"{' '.join(argv)} failed")
        report.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, int(report.read().split()[-1]) * 1024


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sizes = [float(s) for s in (sys.argv[3] if len(sys.argv) > 3 else "1,5,20,50").split(",")]
    print(f"{runs} interleaved runs, medians; {CHANGED} objects change; wall s (cpu s), peak RSS MB, x = / one version")
    print(f"{'size':>8} {'objects':>8} {'diff -ur':>18} {'json':>26} {'text':>26}")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            # A document is about 470 bytes on average.
            count = int(mb * 1e6 / 470) // 3 * 3
            step = max(1, count // CHANGED)
            changed = set(range(0, count, step))
            repo = os.path.join(tmp, f"repo-{mb}")
            subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
            env = os.path.join(repo, "envs", "bench")
            git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
            old_copy, new_copy = os.path.join(tmp, f"old-{mb}"), os.path.join(tmp, f"new-{mb}")
            for version, copy in ((set(), old_copy), (changed, new_copy)):
                write_version(env, count, version)
                shutil.copytree(env, copy)
                subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
                subprocess.run(git + ["commit", "-qm", "v"], cwd=repo, check=True)
            one = size_of(new_copy)
            config = os.path.join(tmp, f"config-{mb}.yaml")
            with open(config, "w") as f:
                f.write(f"repos:\n  - name: bench\n    path: {repo}\n")
            base = [binary, "--config", config, "diff", "HEAD~1..HEAD"]
            commands = {"diff -ur": ["diff", "-ur", old_copy, new_copy], "json": base + ["--json"], "text": base}
            samples = {k: [] for k in commands}
            for argv in commands.values():
                measure(argv)
            for _ in range(runs):
                for k, argv in commands.items():
                    samples[k].append(measure(argv))
            cells = []
            for k in commands:
                wall = statistics.median(s[0] for s in samples[k])
                cpu = statistics.median(s[1] for s in samples[k])
                peak = max(s[2] for s in samples[k])
                cells.append(f"{wall:6.2f} ({cpu:5.2f}) {peak / 1e6:6.0f} MB {peak / one:5.1f}x")
            print(f"{one / 1e6:6.1f}MB {count:>8} " + " ".join(cells))


if __name__ == "__main__":
    main()
