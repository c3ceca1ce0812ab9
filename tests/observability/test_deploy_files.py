"""The deployment files agree with each other and with the server: ports,
probe targets, mounted paths, the load balancer's upstream and body limit,
the image's user, and option names (through auroraedge-server --help when
CTest names the binary). tests/deploy runs and validates them."""

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
    # The grace period covers the preStop pause and the drain.
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert grace * 1000 > pause * 1000 + config["drain_timeout_ms"]


def lb_container():
    deployment = k8s_objects()[("Deployment", "auroraedge-lb")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def test_k8s_services_and_monitor_name_container_ports():
    objects = k8s_objects()
    for service, (_, container) in (("auroraedge", server_container()),
                                    ("auroraedge-lb", lb_container())):
        names = {p["name"] for p in container["ports"]}
        for port in objects[("Service", service)]["spec"]["ports"]:
            assert port["targetPort"] in names, (service, port)
    names = {p["name"] for p in server_container()[1]["ports"]}
    for endpoint in objects[("PodMonitor", "auroraedge")]["spec"]["podMetricsEndpoints"]:
        assert endpoint["port"] in names


def nginx_directive(text, name):
    (value,) = re.findall(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
    return value


def test_load_balancer_runs_the_nginx_config_against_the_service():
    nginx_conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    deployment, container = lb_container()
    command = container["command"]
    config_dir = os.path.dirname(command[command.index("-c") + 1])
    prefix = command[command.index("-p") + 1]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"].rstrip("/"): volumes[m["name"]] for m in container["volumeMounts"]}
    # The configuration from the ConfigMap (made from deploy/nginx), the pid
    # and temporary files in a writable volume under a read-only root.
    assert mounts[config_dir]["configMap"]["name"] == "auroraedge-lb"
    assert "emptyDir" in mounts[prefix.rstrip("/")]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "include upstream.conf;" in nginx_conf
    listen = int(nginx_directive(nginx_conf, "listen").split()[0])
    assert {p["containerPort"] for p in container["ports"]} == {listen}
    # The Kubernetes upstream is the auroraedge Service's gRPC port.
    upstream = (DEPLOY / "nginx" / "upstream-kubernetes.conf").read_text()
    ((host, port),) = re.findall(r"^server (\S+):(\d+) ", upstream, re.MULTILINE)
    service = k8s_objects()[("Service", host)]
    assert int(port) in [p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc"]


def test_the_nginx_body_limit_lets_through_what_the_server_accepts():
    nginx_conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    size = nginx_directive(nginx_conf, "client_max_body_size")
    body_limit = int(size.rstrip("mk")) << {"m": 20, "k": 10}.get(size[-1], 0)
    config = json.loads(k8s_objects()[("ConfigMap", "auroraedge-config")]["data"]["config.json"])
    # One gRPC message plus its 5-byte frame header.
    assert body_limit >= config["max_request_bytes"] + 5


def test_the_pods_run_as_the_images_user_on_a_read_only_root():
    users = {re.findall(r"^USER (\d+):(\d+)$", (DOCKER / name).read_text(), re.MULTILINE)[0]
             for name in ("Dockerfile.cpu", "Dockerfile.cuda")}
    ((uid, gid),) = users
    deployment, container = server_container()
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (str(pod["runAsUser"]), str(pod["runAsGroup"])) == (uid, gid)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["image"].endswith("auroraedge-serve:cpu")


def test_compose_runs_the_built_image_and_mounts_existing_files():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    build_script = (DOCKER / "build_cpu_image.sh").read_text()
    (default_tag,) = re.findall(r"AURORAEDGE_IMAGE_TAG:-([^}]+)}", build_script)
    assert services["auroraedge"]["image"] == default_tag
    assert services["auroraedge"]["read_only"] is True
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
