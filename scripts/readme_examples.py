#!/usr/bin/env python3
"""Runs every `sh` example of README.md, as written, so that none can rot.

    scripts/readme_examples.py               # the balance-report on PATH (what scripts/install.sh installed)
    scripts/readme_examples.py --bin DIR     # DIR/balance-report first on PATH (the test suite passes its build)
    scripts/readme_examples.py --readme FILE # another file's examples (the tests check that a broken one fails)

Each ```sh block runs with bash (-e -o pipefail) in a fresh temporary folder outside the repository
that holds only a copy of sample-data/, the way a user runs the installed tool from their own
folder: no Templates/ or sources beside it. A block must exit 0.

A block that cannot run here says why in an HTML comment on the line before it, which the README
does not show:

    <!-- not run here: .ci/run runs it -->

Every such block is listed with its reason, and every other block runs: a new example is checked
the day it is written. A block of output shown in the README (no language, or `text`) can be
checked the same way: with

    <!-- stderr of: balance-report validate --period 2024-03 sample-data/*.csv -->

before it, the command runs (with LC_ALL=C, so the shell sorts globs the same everywhere) and its
stderr must be the block, line for line. Exit 1 when a block fails (its text, stdout and stderr are printed) or when
the README has no block to run (the parser would be broken).
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = re.compile(r"^<!--\s*not run here:\s*(.+?)\s*-->$")
STDERR = re.compile(r"^<!--\s*stderr of:\s*(.+?)\s*-->$")


def blocks(text: str):
    """(line number, info string, body, the comment line before it) of every fenced block."""
    lines = text.split("\n")
    found = []
    index = 0
    while index < len(lines):
        match = re.match(r"^(`{3,}|~{3,})\s*([\w-]*)", lines[index])
        if not match:
            index += 1
            continue
        fence, info, start = match.group(1), match.group(2), index
        before = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        body = []
        index += 1
        while index < len(lines) and not lines[index].startswith(fence):
            body.append(lines[index])
            index += 1
        found.append((start + 1, info, "\n".join(body) + "\n", before))
        index += 1
    return found


def main() -> int:
    args = sys.argv[1:]
    env = dict(os.environ)
    readme_path = os.path.join(ROOT, "README.md")
    while args:
        if args[0] == "--bin" and len(args) >= 2:
            env["PATH"] = os.path.abspath(args[1]) + os.pathsep + env.get("PATH", "")
        elif args[0] == "--readme" and len(args) >= 2:
            readme_path = args[1]
        else:
            print(__doc__, file=sys.stderr)
            return 2
        args = args[2:]
    tool = shutil.which("balance-report", path=env["PATH"])
    if tool is None:
        print("readme_examples: no balance-report on PATH (run scripts/install.sh, or pass --bin DIR)", file=sys.stderr)
        return 1
    print(f"readme_examples: balance-report is {tool}")
    name = os.path.basename(readme_path)
    with open(readme_path, encoding="utf-8") as handle:
        readme = handle.read()
    failures = 0
    ran = 0
    skipped = 0
    for line, info, body, before in blocks(readme):
        skip, shown = SKIP.match(before), STDERR.match(before)
        if info == "sh" and skip:
            skipped += 1
            print(f"{name}:{line}: not run here: {skip.group(1)}")
            continue
        if info == "sh":
            script, run_env = body, env
        elif info in ("", "text") and shown:
            script, run_env = shown.group(1), dict(env, LC_ALL="C")
        else:
            continue
        result = run(script, run_env)
        ran += 1
        if result.returncode != 0:
            failures += 1
            print(f"{name}:{line}: exit {result.returncode}\n--- block\n{script}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}",
                  file=sys.stderr)
        elif info != "sh" and result.stderr.rstrip("\n") != body.rstrip("\n"):
            failures += 1
            diff = "".join(difflib.unified_diff(body.splitlines(True), result.stderr.splitlines(True), name, "stderr"))
            print(f"{name}:{line}: the block is not what `{script}` prints on stderr:\n{diff}", file=sys.stderr)
        else:
            print(f"{name}:{line}: ok")
    if ran == 0:
        print(f"readme_examples: {name} has no example to run", file=sys.stderr)
        return 1
    print(f"readme_examples: {ran} example(s) ran, {failures} failed, {skipped} not run here")
    return 1 if failures else 0


def run(script: str, env: dict) -> subprocess.CompletedProcess:
    """`script` in bash, in a fresh folder holding a copy of sample-data/ and nothing else."""
    work = tempfile.mkdtemp(prefix="balance-report-readme-")
    try:
        shutil.copytree(os.path.join(ROOT, "sample-data"), os.path.join(work, "sample-data"))
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
