"""`helm template RELEASE CHART [--namespace NS] [--values FILE]... [--kube-version V]
[--api-versions G/V]... [--include-crds] [--skip-tests] [--no-hooks]` and `helm version`, rendered by
Helm v4's engine through helm-python-sdk. Only the argument parsing, the merge of values
files (later files win, maps merged key by key, as helm's `-f` does), the CRDs copied
from the chart's `crds/` and the tests and hooks left out are ours; the rendering is Helm's
own code. A test aid for tollgate's Helm tests on machines
without a helm binary; users use their own helm."""

import json
import sys

import helm_python as helm
from helm_python import _native
from helm_python.chart import _dumps


def merge(base, override):
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def template(args):
    positional, values, namespace = [], [], "default"
    options = {"is_install": True}
    include_crds = skip_tests = no_hooks = False
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, inline = arg.partition("=")
        takes_value = name in ("-f", "--values", "-n", "--namespace", "--kube-version", "--api-versions", "-a")
        value = None
        if takes_value:
            value = inline if inline else args[i + 1]
            i += 1 if inline else 2
        if name in ("-f", "--values"):
            values.append(value)
        elif name in ("-n", "--namespace"):
            namespace = value
        elif name == "--kube-version":
            options["kube_version"] = value
        elif name in ("--api-versions", "-a"):
            options.setdefault("api_versions", []).extend(value.split(","))
        elif arg == "--include-crds":
            include_crds = True
            i += 1
        elif arg == "--skip-tests":
            skip_tests = True
            i += 1
        elif arg == "--no-hooks":
            no_hooks = True
            i += 1
        elif arg.startswith("-"):
            sys.exit(f"helm (test aid): {arg} is not supported")
        else:
            positional.append(arg)
            i += 1
    if len(positional) != 2:
        sys.exit("helm (test aid): usage: helm template RELEASE CHART [-n NS] [-f VALUES]...")
    release, chart_path = positional
    merged = {}
    for path in values:
        with open(path, encoding="utf-8") as f:
            merged = merge(merged, helm.values_from_yaml(f.read()) or {})
    try:
        chart = helm.Chart.load(chart_path)
        options.update(name=release, namespace=namespace)
        # Chart.render does not pass capabilities on; the engine's own call does.
        rendered = json.loads(
            _native.call_string("helm_render", chart._raw(), _dumps(merged), json.dumps(options))
        )
        crds = chart.crds if include_crds else []
    except helm.HelmError as e:
        sys.exit(f"Error: {e}")
    for crd in crds:
        sys.stdout.write(f"---\n# Source: {crd['filename']}\n{crd['data']}")
        if not crd["data"].endswith("\n"):
            sys.stdout.write("\n")
    for source in sorted(rendered):
        text = rendered[source]
        if source.endswith("NOTES.txt") or not text.strip():
            continue
        if skip_tests and "/templates/tests/" in source:
            continue
        if no_hooks and "helm.sh/hook" in text:
            continue
        sys.stdout.write(f"---\n# Source: {source}\n{text}")
        if not text.endswith("\n"):
            sys.stdout.write("\n")


def main():
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print(f"{helm.helm_sdk_version()} (helm-python-sdk {helm.helm_c_version()}, test aid)")
    elif args[:1] == ["template"]:
        template(args[1:])
    else:
        sys.exit(f"helm (test aid): only `template` and `version`, not {args[:1]}")


main()
