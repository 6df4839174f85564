#!/usr/bin/env python3
"""Checks the CI integration files that actionlint does not read.

actionlint lints .github/workflows/*.yml (and runs shellcheck on their
scripts) but not action metadata nor Azure Pipelines YAML. This script:

- parses action.yml, the workflows and ci/azure-pipelines/*.yml as YAML;
- action.yml: `runs.using` is `composite`; every `inputs.X` it uses is
  declared and every declared input is used; every `steps.ID` it uses names
  an earlier step (or any step, for `outputs`); every `run` step has a shell;
- the Azure Pipelines steps template: every `parameters.X` it uses is declared
  and every declared one is used; the AzureCLI@2 task and the CodeAnalysisLogs
  artifact are set up as the README says; the example passes only declared
  parameters to a template that exists;
- no `${{ ... }}` expression inside any script of these files: inputs and
  parameters go through `env:` (script injection);
- shellcheck on the bash scripts of action.yml and of the Azure Pipelines
  files (actionlint already runs it on the workflows' scripts).

Usage: check_ci_yaml.py [ROOT] (default: the current directory). Prints one
line per problem and exits 1 if there is any.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

problems = []


def problem(path, msg):
    problems.append(f"{path}: {msg}")


_loaded = {}


def load(path):
    """The parsed file, or None after reporting why not (once per file)."""
    if path not in _loaded:
        _loaded[path] = _load(path)
    return _loaded[path]


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem(f"{path}{where}", f"not well-formed YAML: {getattr(e, 'problem', e)}")
    except OSError as e:
        problem(path, f"cannot read: {e.strerror}")
    return None


def strings(node):
    """Every string in a YAML tree (keys too)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def no_expression_in_script(path, where, script):
    if "${{" in script:
        problem(path, f"{where}: a ${{{{ }}}} expression inside a script; pass it through env: instead")


scripts_to_shellcheck = []  # (path, where, script)


def check_action(path):
    doc = load(path)
    if not isinstance(doc, dict):
        if doc is not None:
            problem(path, "not a mapping")
        return
    for key in ("name", "description", "runs"):
        if key not in doc:
            problem(path, f"no top-level {key!r}")
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problem(path, f"runs.using is {runs.get('using')!r}, expected 'composite'")
    declared = set((doc.get("inputs") or {}).keys())
    for name, spec in (doc.get("inputs") or {}).items():
        if not isinstance(spec, dict) or not spec.get("description"):
            problem(path, f"input {name!r} has no description")
        elif "default" in spec and not isinstance(spec["default"], str):
            problem(path, f"input {name!r}: quote the default ({spec['default']!r}); inputs are strings")
    used = set()
    for s in [*strings(runs), *strings(doc.get("outputs") or {})]:
        used.update(re.findall(r"\binputs\.([A-Za-z_][A-Za-z0-9_-]*)", s))
    for name in sorted(used - declared):
        problem(path, f"input {name!r} is used but not declared")
    for name in sorted(declared - used):
        problem(path, f"input {name!r} is declared but never used")

    steps = runs.get("steps") or []
    if not steps:
        problem(path, "runs.steps is empty")
    all_ids = {s.get("id") for s in steps if isinstance(s, dict) and s.get("id")}
    seen = set()
    for i, step in enumerate(steps):
        where = f"step {i + 1} ({step.get('name') or step.get('id') or step.get('uses') or 'unnamed'})"
        if ("run" in step) == ("uses" in step):
            problem(path, f"{where}: needs exactly one of run and uses")
        for s in strings({k: v for k, v in step.items() if k != "id"}):
            for ref in re.findall(r"\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)\.", s):
                if ref not in seen:
                    problem(path, f"{where}: uses steps.{ref}, which is not an earlier step")
        if "run" in step:
            if step.get("shell") != "bash":
                problem(path, f"{where}: run step without shell: bash")
            script = step["run"]
            no_expression_in_script(path, where, script)
            if "set -euo pipefail" not in script:
                problem(path, f"{where}: the script does not start with set -euo pipefail")
            scripts_to_shellcheck.append((path, where, script))
        if step.get("id"):
            seen.add(step["id"])
    for name, spec in (doc.get("outputs") or {}).items():
        value = (spec or {}).get("value", "")
        refs = re.findall(r"\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)\.", value)
        if not refs:
            problem(path, f"output {name!r} does not come from a step")
        for ref in refs:
            if ref not in all_ids:
                problem(path, f"output {name!r} uses steps.{ref}, which does not exist")


def check_workflow(path):
    doc = load(path)
    if not isinstance(doc, dict):
        return
    for job_id, job in (doc.get("jobs") or {}).items():
        for i, step in enumerate((job or {}).get("steps") or []):
            if "run" in step:
                no_expression_in_script(path, f"job {job_id}, step {i + 1}", step["run"])


def flatten(steps):
    """The steps, with those under template conditions (`${{ if ... }}:`) inlined."""
    out = []
    for step in steps or []:
        if isinstance(step, dict) and len(step) == 1 and str(next(iter(step))).startswith("${{"):
            out.extend(flatten(next(iter(step.values()))))
        else:
            out.append(step)
    return out


def check_azure_pipelines(directory):
    templates = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yml"))):
        doc = load(path)
        if not isinstance(doc, dict):
            continue
        steps = flatten(doc.get("steps"))
        if isinstance(doc.get("parameters"), list):
            templates[os.path.basename(path)] = doc
            declared = {p.get("name") for p in doc["parameters"]}
            used = set()
            for s in strings(steps):
                used.update(re.findall(r"\bparameters\.([A-Za-z_][A-Za-z0-9_]*)", s))
            for name in sorted(used - declared):
                problem(path, f"parameter {name!r} is used but not declared")
            for name in sorted(declared - used):
                problem(path, f"parameter {name!r} is declared but never used")
            tasks = {s.get("task"): s for s in steps if isinstance(s, dict) and s.get("task")}
            cli = tasks.get("AzureCLI@2")
            if not cli:
                problem(path, "no AzureCLI@2 task")
            else:
                want = {"scriptType": "bash", "scriptLocation": "inlineScript", "addSpnToEnvironment": False}
                for k, v in want.items():
                    if cli.get("inputs", {}).get(k) != v:
                        problem(path, f"AzureCLI@2: inputs.{k} should be {v!r}")
            pub = tasks.get("PublishBuildArtifacts@1")
            if not pub or pub.get("inputs", {}).get("ArtifactName") != "CodeAnalysisLogs":
                problem(path, "no PublishBuildArtifacts@1 with ArtifactName CodeAnalysisLogs (the Scans tab reads it)")
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            where = f"step {i + 1} ({step.get('displayName', '')})"
            for script in (step.get("bash"), step.get("script"), (step.get("inputs") or {}).get("inlineScript")):
                if isinstance(script, str):
                    no_expression_in_script(path, where, script)
                    scripts_to_shellcheck.append((path, where, script))
    for path in sorted(glob.glob(os.path.join(directory, "*.yml"))):
        doc = load(path)
        if not isinstance(doc, dict):
            continue
        for step in doc.get("steps") or []:
            if isinstance(step, dict) and "template" in step:
                t = templates.get(step["template"])
                if t is None:
                    problem(path, f"template {step['template']!r} is not a steps template in {directory}")
                    continue
                declared = {p["name"]: p for p in t["parameters"]}
                given = step.get("parameters") or {}
                for name in given:
                    if name not in declared:
                        problem(path, f"parameter {name!r} is not declared by {step['template']}")
                for name, p in declared.items():
                    if "default" not in p and name not in given:
                        problem(path, f"required parameter {name!r} of {step['template']} is not given")
                    if name in given and "values" in p and given[name] not in p["values"]:
                        problem(path, f"parameter {name!r}: {given[name]!r} is not one of {p['values']}")


def shellcheck():
    exe = shutil.which("shellcheck")
    if not exe:
        problem("shellcheck", "not found on PATH")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n, (path, where, script) in enumerate(scripts_to_shellcheck):
            f = os.path.join(tmp, f"script{n}.sh")
            with open(f, "w", encoding="utf-8") as out:
                out.write("#!/usr/bin/env bash\n" + script)
            r = subprocess.run([exe, "--shell=bash", "--format=gcc", f], capture_output=True, text=True)
            for line in r.stdout.splitlines():
                # script0.sh:LINE:COL: level: message [SCnnnn]; LINE counts the added shebang.
                m = re.match(r"^[^:]+:(\d+):(\d+): (.*)$", line)
                if m:
                    problem(path, f"{where}: script line {int(m.group(1)) - 1}:{m.group(2)}: shellcheck {m.group(3)}")
            if r.returncode not in (0, 1):
                problem(path, f"{where}: shellcheck failed: {r.stderr.strip()}")


def check_upload_failure(path):
    """The step after a failed upload: it explains, then fails the job
    (upload-failure: fail) or warns (warn); the upload step itself must not
    fail the job first (continue-on-error)."""
    steps = ((load(path) or {}).get("runs") or {}).get("steps") or []
    upload = next((s for s in steps if s.get("id") == "upload"), None)
    explain = next((s for s in steps if s.get("name") == "Explain a failed upload"), None)
    if upload is None or explain is None:
        problem(path, "no upload step, or no step explaining a failed upload")
        return
    if upload.get("continue-on-error") is not True:
        problem(path, "the upload step fails the job before its failure is explained (continue-on-error: true)")
    if "steps.upload.outcome == 'failure'" not in str(explain.get("if", "")):
        problem(path, "the explaining step does not run on a failed upload")
    for mode, code, level in (("fail", 1, "::error"), ("warn", 0, "::warning")):
        env = dict(os.environ, UPLOAD_FAILURE=mode, SARIF="kvaudit.sarif", VISIBILITY="private")
        r = subprocess.run(["bash", "-c", explain["run"]], env=env, capture_output=True, text=True)
        out = r.stdout
        if r.returncode != code or not out.startswith(level) or "security-events: write" not in out \
                or "Advanced Security" not in out or "upload-failure: warn" not in out:
            problem(path, f"a failed upload with upload-failure: {mode}: exit {r.returncode}, {out.strip()[:200]!r}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    os.chdir(root)
    check_action("action.yml")
    check_upload_failure("action.yml")
    workflows = sorted(glob.glob(".github/workflows/*.yml"))
    if not workflows:
        problem(".github/workflows", "no workflow")
    for path in workflows:
        check_workflow(path)
    if not glob.glob("ci/azure-pipelines/*.yml"):
        problem("ci/azure-pipelines", "no pipeline")
    check_azure_pipelines("ci/azure-pipelines")
    shellcheck()
    checked = 1 + len(workflows) + len(glob.glob("ci/azure-pipelines/*.yml"))
    for p in problems:
        print(p)
    print(f"CI YAML: {checked} files, {len(scripts_to_shellcheck)} scripts shellchecked, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
