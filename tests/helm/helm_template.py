"""`helm template RELEASE CHART [--namespace NS] [--values FILE]...` and `helm version`,
rendered by Helm v4's engine through helm-python-sdk. Only the argument parsing and the
merge of values files (later files win, maps merged key by key, as helm's `-f` does) are
ours; the rendering is Helm's own code. A test aid for tollgate's Helm tests on machines
without a helm binary; users use their own helm."""

import sys

import helm_python as helm


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
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-f", "--values"):
            values.append(args[i + 1])
            i += 2
        elif arg.startswith("--values="):
            values.append(arg.split("=", 1)[1])
            i += 1
        elif arg in ("-n", "--namespace"):
            namespace = args[i + 1]
            i += 2
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
        rendered = chart.render(merged, name=release, namespace=namespace, is_install=True)
    except helm.HelmError as e:
        sys.exit(f"Error: {e}")
    for source in sorted(rendered):
        text = rendered[source]
        if source.endswith("NOTES.txt") or not text.strip():
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
