#!/usr/bin/env python3
"""Generate the history benchmark repository with `git fast-import`.

A bare repository with COMMITS commits (default 100,000) on `main`, linear, and 10
environments `envs/env0` .. `envs/env9` of plain manifests. Each commit edits one file:
mostly in one environment (chosen by a fixed pseudo-random sequence), sometimes a file
outside every environment. Deterministic: the same arguments give the same commit ids.

With RARE, an eleventh environment `envs/rare` is also changed once every RARE commits
(the rarely changed path of a large repository, whose history a Bloom filter answers
without looking at trees).

usage: gen_history_repo.py DIR [COMMITS] [RARE]
"""
import os
import subprocess
import sys

ENVS = 10


def deployment(env: int, version: int) -> bytes:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: app\n  namespace: env{env}\nspec:\n  replicas: 2\n"
        "  template:\n    spec:\n      containers:\n"
        f"      - name: app\n        image: ghcr.io/acme/app:1.0.{version}\n"
    ).encode()


def config(env: int, version: int) -> bytes:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f"  name: app-config\n  namespace: env{env}\ndata:\n  revision: \"{version}\"\n"
    ).encode()


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = sys.argv[1]
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rare = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if os.path.exists(target):
        sys.exit(f"{target} exists; remove it first")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", target], check=True)
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=target,
        stdin=subprocess.PIPE,
    )
    out = importer.stdin
    seed = 12345
    time = 1_700_000_000
    for i in range(commits):
        seed = (seed * 1103515245 + 12345) % (1 << 31)
        pick = seed % 23
        time += 60 + seed % 600
        if i == 0:
            files = [(f"envs/env{e}/deploy.yaml", deployment(e, 0)) for e in range(ENVS)]
            files += [(f"envs/env{e}/config.yaml", config(e, 0)) for e in range(ENVS)]
            files.append(("README.md", b"benchmark\n"))
            if rare:
                files.append(("envs/rare/config.yaml", config(ENVS, 0)))
        elif rare and i % rare == 0:
            files = [("envs/rare/config.yaml", config(ENVS, i))]
        elif pick < 20:
            env = pick % ENVS
            if pick < 10:
                files = [(f"envs/env{env}/deploy.yaml", deployment(env, i))]
            else:
                files = [(f"envs/env{env}/config.yaml", config(env, i))]
        else:
            files = [("docs/changes.txt", f"change {i}\n".encode())]
        author = ["Alice <alice@example.com>", "Bob <bob@example.com>", "CI <ci@example.com>"][seed % 3]
        message = f"change {i}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"author {author} {time} +0000\n".encode())
        out.write(f"committer {author} {time} +0000\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        for path, content in files:
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(f"data {len(content)}\n".encode() + content)
        out.write(b"\n")
    out.write(b"done\n")
    out.close()
    if importer.wait() != 0:
        sys.exit("git fast-import failed")
    # Pack everything, as a long-lived repository would be, but write no commit-graph:
    # the comparison with `git log` is made without one on both sides.
    subprocess.run(["git", "-c", "gc.writeCommitGraph=false", "repack", "-adq"], cwd=target, check=True)
    with open(os.path.join(os.path.dirname(os.path.abspath(target)), "config.yaml"), "w") as f:
        f.write(f"repos:\n  - name: bench\n    path: {os.path.abspath(target)}\n")


if __name__ == "__main__":
    main()
