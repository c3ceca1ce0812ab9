"""deploy/k8s validates offline against the Kubernetes API schemas
(validate_manifests.cjs over the npm packages of package.json), and the
validation is not a formality: broken copies of the same manifests fail,
naming the field."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
K8S = HERE.parents[1] / "deploy" / "k8s"
VALIDATOR = HERE / "validate_manifests.cjs"
MANIFESTS = sorted(K8S.glob("*.yaml"))


def validate(*paths):
    return subprocess.run(
        [os.environ["AURORAEDGE_NODE"], str(VALIDATOR),
         "--modules", os.environ["AURORAEDGE_NODE_MODULES"], *map(str, paths)],
        capture_output=True, text=True, timeout=120)


def test_every_manifest_validates():
    result = validate(*MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    validated = {line.split(": ", 1)[1].split(" ")[0] for line in result.stdout.splitlines()
                 if line.startswith("ok ")}
    assert {"Deployment/auroraedge", "Service/auroraedge", "PodDisruptionBudget/auroraedge",
            "ConfigMap/auroraedge-config", "PodMonitor/auroraedge", "Deployment/auroraedge-lb",
            "Service/auroraedge-lb"} <= validated, result.stdout


def objects():
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def find(docs, kind, name):
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def server_container(docs):
    return find(docs, "Deployment", "auroraedge")["spec"]["template"]["spec"]["containers"][0]


def probe_port_as_name(docs):
    server_container(docs)["readinessProbe"]["grpc"]["port"] = "grpc"


def deployment_without_selector(docs):
    del find(docs, "Deployment", "auroraedge")["spec"]["selector"]


def memory_limit_as_number_list(docs):
    server_container(docs)["resources"]["limits"]["memory"] = [1, 2]


def pod_monitor_port_as_number(docs):
    find(docs, "PodMonitor", "auroraedge")["spec"]["podMetricsEndpoints"][0]["port"] = 9464


def deployment_with_text_replicas(docs):
    find(docs, "Deployment", "auroraedge")["spec"]["replicas"] = "three"


def kind_misspelt(docs):
    find(docs, "Service", "auroraedge")["kind"] = "Servise"


@pytest.mark.parametrize("breakage,named", [
    (probe_port_as_name, "containers/0/readinessProbe/grpc/port must be integer"),
    (deployment_without_selector, "must have required property selector"),
    (memory_limit_as_number_list, "resources/limits/memory"),
    (pod_monitor_port_as_number, "podMetricsEndpoints/0/port must be string"),
    (deployment_with_text_replicas, "spec/replicas must be integer"),
    (kind_misspelt, "no schema for v1 Servise"),
], ids=lambda value: getattr(value, "__name__", None))
def test_a_broken_manifest_fails_naming_the_field(tmp_path, breakage, named):
    docs = objects()
    breakage(docs)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(docs))
    result = validate(broken)
    assert result.returncode == 1, result.stdout
    assert named in result.stdout, result.stdout
    assert sum(line.startswith("FAIL") for line in result.stdout.splitlines()) == 1, result.stdout
