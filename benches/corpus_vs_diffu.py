#!/usr/bin/env python3
"""Every pair of versions in the shared corpus: `tollgate diff` (JSON and text) against
`diff -u` on the same files, in one run.

For each pair, the two versions' files are committed into a temporary repository as one
environment (`envs/<pair>/`, the files at their corpus paths), and RUNS interleaved rounds
time
  diff -u OLD NEW         (diff -ur for a folder)
  tollgate diff A..B --json
  tollgate diff A..B      (text, the default a person sees)
Wall time and CPU time (user + system of the process, from wait4: tollgate uses two
threads where diff uses one) are medians. Ratios are against `diff -u`'s wall time and
CPU time; `text/json` is the text output's wall time over the JSON's. The folders that
kustomize renders (podinfo) are rendered once before timing; the render cache then
answers, so what is timed is the diff, as for the files.

usage: corpus_vs_diffu.py [TOLLGATE_BINARY] [RUNS] [PAIR-NAME-SUBSTRING]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get("TOLLGATE_CORPUS", os.path.join(HERE, "..", "..", "shared", "corpus"))

# (name, project, old version, new version, path under the version: a file or a folder)
PAIRS = [
    ("argo-cd v2.14.0-v3.0.0", "argo-cd", "v2.14.0", "v3.0.0", "manifests/install.yaml"),
    ("argo-cd v3.0.0-v3.5.0", "argo-cd", "v3.0.0", "v3.5.0", "manifests/install.yaml"),
    ("argo-cd v2.14.0-v3.5.0", "argo-cd", "v2.14.0", "v3.5.0", "manifests/install.yaml"),
    ("kube-prometheus v0.15.0-v0.16.0", "kube-prometheus", "v0.15.0", "v0.16.0", "manifests"),
    ("istio 1.27.0-1.28.0", "istio", "1.27.0", "1.28.0", "."),
    ("cert-manager v1.19.0-v1.20.0", "cert-manager", "v1.19.0", "v1.20.0", "deploy/crds"),
    ("ingress-nginx cloud v1.11.0-v1.12.0", "ingress-nginx", "controller-v1.11.0", "controller-v1.12.0",
     "deploy/static/provider/cloud/deploy.yaml"),
    ("ingress-nginx baremetal v1.11.0-v1.12.0", "ingress-nginx", "controller-v1.11.0", "controller-v1.12.0",
     "deploy/static/provider/baremetal/deploy.yaml"),
    ("dashboard v2.0.0-v2.6.1", "kubernetes-dashboard", "v2.0.0", "v2.6.1", "aio/deploy/recommended.yaml"),
    ("dashboard v2.6.1-v2.7.0", "kubernetes-dashboard", "v2.6.1", "v2.7.0", "aio/deploy/recommended.yaml"),
    ("podinfo 6.13.0-6.14.0", "podinfo", "6.13.0", "6.14.0", "kustomize"),
]


def timed(argv, cwd=None):
    """Run once with stdout discarded; (wall seconds, CPU seconds)."""
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=devnull)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # diff exits 1 when the files differ
        sys.exit(f"{' '.join(argv)} failed with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def copy_version(source, target):
    """Put the files of `source` (a file or a folder) under `target`, with new mtimes: two
    versions of a file with the same size and the same corpus mtime would look unchanged
    to git's index."""
    if os.path.exists(target):
        shutil.rmtree(target)
    if os.path.isdir(source):
        shutil.copytree(source, target, copy_function=shutil.copy)
    else:
        os.makedirs(target)
        shutil.copy(source, os.path.join(target, os.path.basename(source)))


def bench_pair(binary, runs, tmp, name, project, old, new, path):
    old_path = os.path.normpath(os.path.join(CORPUS, project, old, path))
    new_path = os.path.normpath(os.path.join(CORPUS, project, new, path))
    repo = os.path.join(tmp, name.replace(" ", "_"))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    env_dir = os.path.join(repo, "envs", "bench")
    for source in (old_path, new_path):
        copy_version(source, env_dir)
        subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
        subprocess.run(git + ["commit", "-qm", source], cwd=repo, check=True)
    config = os.path.join(tmp, name.replace(" ", "_") + ".yaml")
    with open(config, "w") as f:
        f.write(f"repos:\n  - name: bench\n    path: {repo}\n")
    base = [binary, "--config", config, "diff", "HEAD~1..HEAD"]
    commands = {
        "diff -u": ["diff", "-ur" if os.path.isdir(old_path) else "-u", old_path, new_path],
        "json": base + ["--json"],
        "text": base,
    }
    for argv in commands.values():  # warm the page cache and the render cache
        timed(argv)
    samples = {key: [] for key in commands}
    for _ in range(runs):
        for key, argv in commands.items():
            samples[key].append(timed(argv))
    wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
    return wall, cpu


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "tollgate")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    only = sys.argv[3] if len(sys.argv) > 3 else ""
    print(f"{runs} interleaved runs each, medians; wall ms (cpu ms); ratios against diff -u")
    header = f"{'pair':40} {'diff -u':>15} {'json':>15} {'text':>15} {'json x':>7} {'text x':>7} {'cpu j x':>7} {'cpu t x':>7} {'t/j':>5}"
    print(header)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for pair in PAIRS:
            if only not in pair[0]:
                continue
            wall, cpu = bench_pair(binary, runs, tmp, *pair)
            d = wall["diff -u"]
            ratios = (wall["json"] / d, wall["text"] / d, cpu["json"] / max(cpu["diff -u"], 1e-4),
                      cpu["text"] / max(cpu["diff -u"], 1e-4), wall["text"] / wall["json"])
            worst = max(worst, ratios[0], ratios[1])
            cells = " ".join(f"{wall[k] * 1000:6.1f} ({cpu[k] * 1000:5.1f})" for k in ("diff -u", "json", "text"))
            print(f"{pair[0]:40} {cells} {ratios[0]:6.2f}x {ratios[1]:6.2f}x {ratios[2]:6.2f}x {ratios[3]:6.2f}x {ratios[4]:5.2f}")
    print(f"worst wall ratio {worst:.2f}x (target <= 3x; text <= 1.3x json)")


if __name__ == "__main__":
    main()
