"""deploy/ is checked offline on every run: YAML lint, the Compose file against the Compose
Specification's JSON Schema (vendored in deploy/schemas/), the Kubernetes manifests against
the Kubernetes schemas kubernetes-validate ships, and every setting the hub reads set in
both, each with a comment saying why that value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from hub.settings import Settings, env_name

DEPLOY = Path(__file__).parents[2] / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S_FILES = sorted((DEPLOY / "k8s").rglob("*.yaml"))
YAML_FILES = sorted(DEPLOY.rglob("*.yaml"))
# The Kubernetes release the manifests are written for (kubernetes-validate ships its schema).
K8S_VERSION = "1.33"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_lint(path: Path) -> None:
    config = YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    problems = [
        f"{path.name}:{p.line}:{p.column} {p.message} ({p.rule})"
        for p in linter.run(path.read_text(), config, str(path))
    ]
    assert problems == []


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    [compose] = documents(COMPOSE)
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_compose_file_has_the_production_layout() -> None:
    [compose] = documents(COMPOSE)
    services = compose["services"]
    assert [s for s in services if s.startswith("kafka-")] == ["kafka-1", "kafka-2", "kafka-3"]
    kafka = services["kafka-1"]["environment"]
    assert kafka["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
    assert kafka["KAFKA_MIN_INSYNC_REPLICAS"] == 2
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics are created explicitly
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["hub", "db", "upgrade"]
    assert services["replay"]["command"] == ["hub", "replay"]
    assert "443:8443" in services["proxy"]["ports"]
    for secret in services["api"]["secrets"]:
        assert secret["mode"] == 0o400


def test_every_topic_is_created_with_its_partitions_and_the_settings_agree() -> None:
    [compose] = documents(COMPOSE)
    script = compose["services"]["topics"]["command"][0]
    created = dict(re.findall(r"--topic (\S+) --partitions (\d+)", script))
    partitions = compose["x-hub-environment"]["HUB_TOPIC_PARTITIONS"]
    assert created["hub.events.v1"] == created["hub.ingress.raw"] == partitions
    for topic in ("hub.alerts.v1", "hub.events.deadletter.v1", "hub.ingress.rejected",
                  "hub.audit.checkpoints", "hub-projector-__assignor-__leader"):  # fmt: skip
        assert topic in created
    k8s_script = next(
        c["args"][0]
        for d in documents(DEPLOY / "k8s" / "40-jobs.yaml")
        for c in d["spec"]["template"]["spec"]["containers"]
        if c["name"] == "topics"
    )
    assert dict(re.findall(r"--topic (\S+) --partitions (\d+)", k8s_script)) == created
    assert re.findall(r"retention.ms=(-?\d+)", k8s_script) == re.findall(
        r"retention.ms=(-?\d+)", script
    )


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_kubernetes_manifests_follow_the_kubernetes_schemas(path: Path) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_has_probes_requests_budgets_and_file_secrets() -> None:
    docs = [d for p in K8S_FILES for d in documents(p)]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for name in ("hub-api", "hub-worker", "kafka"):
        assert ("PodDisruptionBudget", name) in kinds
    assert ("Job", "hub-migrate") in kinds
    for d in docs:
        if d["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = d["spec"]["template"]["spec"]
        for c in pod["containers"]:
            assert "readinessProbe" in c and "livenessProbe" in c, d["metadata"]["name"]
            assert c["resources"]["requests"], d["metadata"]["name"]
        if d["metadata"]["name"].startswith("hub-"):
            [keys] = [v for v in pod["volumes"] if v["name"] == "hub-keys"]
            assert keys["secret"]["defaultMode"] == 0o400
            paths = {i["path"] for i in keys["secret"]["items"]}
            assert {"master.key", "subject-token.key", "audit-checkpoint.key"} <= paths
    api = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "hub-api")
    [container] = api["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["spec"]["replicas"] == 2


def commented_settings(text: str) -> dict[str, str]:
    """HUB_* names set in this text, each with the comment on its line (or empty)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"\s*(?:- name: )?(HUB_[A-Z_]+)\b", line)
        if m:
            found[m.group(1)] = line.partition("  # ")[2].strip()
    return found


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_every_setting_the_hub_reads_is_set_with_a_reason(where: str) -> None:
    files = [COMPOSE] if where == "compose" else K8S_FILES
    found: dict[str, str] = {}
    for path in files:
        for name, comment in commented_settings(path.read_text()).items():
            found[name] = found.get(name) or comment
    wanted = {env_name(field) for field in Settings.model_fields}
    assert sorted(wanted - found.keys()) == []
    assert sorted(n for n in wanted if len(found[n].split()) < 3) == []  # a reason in words
