"""The deployment files agree with each other and with the server: ports,
probe targets, mounted paths, and option names (through auroraedge-server
--help when CTest names the binary)."""

import json
import os
import re
import subprocess

import pytest
import yaml

from dashboard import REPO

DEPLOY = REPO / "deploy"
DOCKER = REPO / "docker"


def load_all(path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_objects():
    objects = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in load_all(path):
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def server_container():
    deployment = k8s_objects()[("Deployment", "auroraedge")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def port_of(address):
    return int(address.rsplit(":", 1)[1])


@pytest.mark.parametrize("path", sorted(
    [p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml")] + [DOCKER / "compose.yaml"]),
    ids=lambda p: str(p.relative_to(REPO)))
def test_yaml_files_parse(path):
    assert load_all(path)


def test_k8s_ports_probes_and_config_agree():
    deployment, container = server_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    config = json.loads(k8s_objects()[("ConfigMap", "auroraedge-config")]["data"]["config.json"])
    assert port_of(config["listen"]) == ports["grpc"]
    assert port_of(config["metrics_listen"]) == ports["metrics"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == ports["grpc"], probe
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    # The grace period covers the drain.
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace * 1000 > config["drain_timeout_ms"]


def test_k8s_services_and_monitor_name_container_ports():
    objects = k8s_objects()
    _, container = server_container()
    names = {p["name"] for p in container["ports"]}
    for name in ("auroraedge", "auroraedge-pods"):
        for port in objects[("Service", name)]["spec"]["ports"]:
            assert port["targetPort"] in names, (name, port)
    for endpoint in objects[("PodMonitor", "auroraedge")]["spec"]["podMetricsEndpoints"]:
        assert endpoint["port"] in names


def test_envoy_targets_the_headless_service():
    envoy = yaml.safe_load((DEPLOY / "envoy" / "envoy.yaml").read_text())
    (cluster,) = envoy["static_resources"]["clusters"]
    (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    address = endpoint["endpoint"]["address"]["socket_address"]
    headless = k8s_objects()[("Service", "auroraedge-pods")]
    assert headless["spec"]["clusterIP"] == "None"
    assert address["address"] == headless["metadata"]["name"]
    assert address["port_value"] == headless["spec"]["ports"][0]["port"]
    assert "grpc_health_check" in cluster["health_checks"][0]


def test_compose_mounts_and_builds_existing_files():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    build = services["auroraedge"]["build"]
    assert (DOCKER / build["context"] / build["dockerfile"]).is_file()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), volume
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    url = datasource["datasources"][0]["url"]
    assert re.fullmatch(r"http://prometheus:9090", url)
    assert "9090:9090" in services["prometheus"]["ports"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (target,) = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert target.split(":")[0] in services


def server_option_names():
    binary = os.environ.get("AURORAEDGE_TEST_SERVER")
    if not binary:
        pytest.skip("AURORAEDGE_TEST_SERVER not set: auroraedge-server is not part of this build")
    usage = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"--([a-z][a-z0-9-]*)", usage))


def test_config_keys_and_environment_are_server_options():
    options = server_option_names()
    config = json.loads(k8s_objects()[("ConfigMap", "auroraedge-config")]["data"]["config.json"])
    for key in config:
        assert key.replace("_", "-") in options, key
    _, container = server_container()
    env_names = [e["name"] for e in container.get("env", [])]
    for dockerfile in ("Dockerfile.cpu", "Dockerfile.cuda"):
        env_names += re.findall(r"\b(AURORAEDGE_[A-Z_]+)=", (DOCKER / dockerfile).read_text())
    env_names += list(yaml.safe_load((DOCKER / "compose.yaml").read_text())
                      ["services"]["auroraedge"]["environment"])
    for name in env_names:
        assert name.removeprefix("AURORAEDGE_").lower().replace("_", "-") in options, name
