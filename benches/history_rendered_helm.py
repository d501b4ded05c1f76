#!/usr/bin/env python3
"""A Helm environment's rendered history over COMMITS commits: how many `helm template`
runs a cold look takes, and a warm one (a second process on the same cache), with times.

Builds a repository with `git fast-import`: a chart `chart/` with values files for
staging and production, and COMMITS commits on main after the first: every tenth changes
production's values, the others staging's values or a README no chart reads (packed, as a
clone is). Then runs `history --env production --rendered --json` twice with its own cache
dir, through a helm wrapper that counts its `template` runs and hands them to the helm
named by TOLLGATE_HELM (in CI, the test aid in front of Helm v4's engine).

usage: history_rendered_helm.py [TOLLGATE_BINARY] [COMMITS] [WORKDIR]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")

CHART = "apiVersion: v2\nname: api\nversion: 0.1.0\n"
DEFAULTS = "image: ghcr.io/acme/api:1.0\nreplicas: 1\n"
TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: {{ .Values.image }}
"""


def blob(out, text):
    data = text.encode()
    out.write(b"blob\n")
    out.write(f"data {len(data)}\n".encode())
    out.write(data)
    out.write(b"\n")


def commit(out, n, message, files):
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer CI <ci@example.com> {1700000000 + n * 60} +0000\n".encode())
    data = message.encode()
    out.write(f"data {len(data)}\n".encode())
    out.write(data + b"\n")
    for path, text in files:
        data = text.encode()
        out.write(f"M 100644 inline {path}\n".encode())
        out.write(f"data {len(data)}\n".encode())
        out.write(data + b"\n")


def build(repo, commits):
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE
    )
    out = proc.stdin
    commit(
        out,
        0,
        "The api chart",
        [
            ("chart/Chart.yaml", CHART),
            ("chart/values.yaml", DEFAULTS),
            ("chart/templates/deployment.yaml", TEMPLATE),
            ("chart/values-staging.yaml", "replicas: 1\n"),
            ("chart/values-production.yaml", "replicas: 2\n"),
            ("README.md", "the api\n"),
        ],
    )
    production = 0
    for n in range(1, commits + 1):
        if n % 10 == 0:
            production += 1
            files = [("chart/values-production.yaml", f"replicas: {2 + production % 5}\nimage: ghcr.io/acme/api:1.{production}\n")]
            message = f"production 1.{production}"
        elif n % 2 == 0:
            files = [("chart/values-staging.yaml", f"replicas: 1\nimage: ghcr.io/acme/api:1.{n}\n")]
            message = f"staging {n}"
        else:
            files = [("README.md", f"the api, note {n}\n")]
            message = f"note {n}"
        commit(out, n, message, files)
    out.close()
    proc.wait()
    subprocess.run(["git", "gc", "-q"], cwd=repo, check=True)
    return production


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/tollgate")
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="tollgate-helm-history-")
    helm = os.environ.get("TOLLGATE_HELM") or shutil.which("helm")
    if not helm:
        sys.exit("no helm: set TOLLGATE_HELM (CI: tests/helm/helm with TOLLGATE_HELM_PYTHON)")
    repo = os.path.join(work, "charts.git")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    production = build(repo, commits)
    count = os.path.join(work, "helm-runs")
    wrapper = os.path.join(work, "helm")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\n[ "$1" = template ] && echo x >> {count}\nexec {helm} "$@"\n')
    os.chmod(wrapper, 0o755)
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(
            f"identity: \"Dana <dana@example.com>\"\nrepos:\n  - name: charts\n    path: {repo}\n    environments:\n"
            "      - {name: staging, path: chart, renderer: helm, values: [chart/values-staging.yaml]}\n"
            "      - {name: production, path: chart, renderer: helm, values: [chart/values-production.yaml]}\n"
        )
    env = dict(os.environ)
    env.update(
        TOLLGATE_HELM=wrapper,
        XDG_CACHE_HOME=os.path.join(work, "cache"),
        XDG_STATE_HOME=os.path.join(work, "state"),
        XDG_DATA_HOME=os.path.join(work, "data"),
    )
    print(f"{commits + 1} commits on main, {production} of them change production's values")
    for run in ("cold", "warm"):
        if os.path.exists(count):
            os.remove(count)
        started = time.perf_counter()
        out = subprocess.run(
            [binary, "--config", config, "history", "--env", "production", "--rendered", "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
        entries = len(json.loads(out.stdout))
        runs = sum(1 for _ in open(count)) if os.path.exists(count) else 0
        print(f"{run}: {entries} entries, {runs} helm renders, {elapsed * 1000:.0f} ms")


main()
