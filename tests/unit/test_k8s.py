"""deploy/k8s: the county and township overlays, rendered as kustomize renders them, are valid
Kubernetes objects of a named version (kubernetes-validate's schemas, offline) and say what a node
needs: probes, resources, scrape annotations, claims, placeholder secrets, network policies that
select pods which exist, and the NATS configurations natsconf renders.

The overlays use nothing of kustomize but `resources` (files and directories), so `render` below is
the whole of what `kubectl kustomize` does with them; where kubectl is installed the two are compared.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from daiban_common.service import discover_services
from deploy.compose.nats.render import EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS, county_conf, township_conf
from tests.unit.test_compose import USER, unrestricted_users

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OVERLAYS = ("county", "township")
# The oldest Kubernetes the manifests are meant for, and the newest the validator ships.
VERSIONS = ("1.32.0", "1.37.0")
PORTS = {"intake": 8001, "catalogue": 8002, "routing": 8003, "audit": 8004}

Doc = dict[str, Any]


def render(folder: Path) -> list[Doc]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - {"apiVersion", "kind", "resources"}
    assert not unknown, f"{folder}: this renderer knows `resources` only, not {unknown}"
    docs: list[Doc] = []
    for entry in kustomization["resources"]:
        path = (folder / entry).resolve()
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def rendered(overlay: str) -> list[Doc]:
    return render(K8S / "overlays" / overlay)


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_templates(docs: list[Doc]) -> list[Doc]:
    return [d["spec"]["template"] for d in docs if d["kind"] in {"Deployment", "Job"}]


def expected_services(overlay: str) -> set[str]:
    specs = discover_services().values()
    return {s.name for s in specs if overlay == "county" or s.township}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_the_kubernetes_version(overlay: str, version: str) -> None:
    errors = []
    for doc in rendered(overlay):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, errors


def test_the_validator_refuses_what_kubernetes_would() -> None:
    deployment = by_kind(rendered("county"), "Deployment")["intake"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = [8001]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubectl_kustomize_renders_the_same(overlay: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here: the overlays are rendered by this test's own `resources` walk only")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    theirs = [d for d in yaml.safe_load_all(done.stdout) if d]

    def key(doc: Doc) -> str:
        return f"{doc['kind']}/{doc['metadata']['name']}"

    assert sorted(theirs, key=key) == sorted(rendered(overlay), key=key)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_node_runs_its_services_with_probes_resources_and_scraping(overlay: str) -> None:
    docs = rendered(overlay)
    deployments = by_kind(docs, "Deployment")
    services = {
        n
        for n, d in deployments.items()
        if d["spec"]["template"]["spec"]["containers"][0]["image"].startswith("localhost/daiban:")
    }
    assert services == expected_services(overlay)
    assert {"postgres", "nats"} <= set(deployments)
    for name in services:
        template = deployments[name]["spec"]["template"]
        [container] = template["spec"]["containers"]
        assert container["args"] == ["serve", name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"][0]["containerPort"] == PORTS[name]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(PORTS[name])
        assert annotations["prometheus.io/path"] == "/metrics"
        assert by_kind(docs, "Service")[name]["spec"]["ports"][0]["port"] == PORTS[name]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_is_a_job_before_the_directory_import(overlay: str) -> None:
    job = by_kind(rendered(overlay), "Job")["migrate"]
    [migrate] = job["spec"]["template"]["spec"]["initContainers"]
    [directory] = job["spec"]["template"]["spec"]["containers"]
    township = ["intake", "routing", "audit"]
    assert migrate["args"] == (["migrate"] if overlay == "county" else ["migrate", *township])
    assert directory["args"] == ["directory", "import", "--county", EXAMPLE_COUNTY[:6]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_claims_hold_postgresql_jetstream_and_the_audit_key(overlay: str) -> None:
    docs = rendered(overlay)
    mounted = {}
    for template in pod_templates(docs):
        volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
        for container in template["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                claim = volumes[mount["name"]].get("persistentVolumeClaim")
                if claim:
                    mounted[claim["claimName"]] = mount["mountPath"]
    assert mounted == {
        "postgres-data": "/var/lib/postgresql/data",
        "jetstream": "/data/jetstream",
        "audit-keys": "/var/lib/daiban/keys",
    }
    assert set(by_kind(docs, "PersistentVolumeClaim")) == set(mounted)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_placeholders_and_every_reference_resolves(overlay: str) -> None:
    docs = rendered(overlay)
    secrets, configs = by_kind(docs, "Secret"), by_kind(docs, "ConfigMap")
    for secret in secrets.values():
        assert "data" not in secret, "placeholders go in stringData, readable"
        for key, value in secret["stringData"].items():
            assert "CHANGE" in value.upper(), (key, value)
    for template in pod_templates(docs):
        spec = template["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configs
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["stringData"]
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configs


def test_the_nats_configurations_are_what_natsconf_renders() -> None:
    county = by_kind(rendered("county"), "ConfigMap")
    township = by_kind(rendered("township"), "ConfigMap")
    assert county["nats-config"]["data"]["nats.conf"] == county_conf(EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS)
    assert township["nats-config"]["data"]["nats.conf"] == township_conf(EXAMPLE_TOWNSHIPS[0])
    assert county["daiban-node"]["data"]["DAIBAN_CHILD_NODES"] == ",".join(EXAMPLE_TOWNSHIPS)
    assert township["daiban-node"]["data"]["DAIBAN_ORG"] == EXAMPLE_TOWNSHIPS[0]
    county_secrets = by_kind(rendered("county"), "Secret")["daiban-nats"]["stringData"]
    assert f"DAIBAN_NATS_PASSWORD_T{EXAMPLE_TOWNSHIPS[0][:9]}" in county_secrets


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_connects_as_its_own_nats_user(overlay: str) -> None:
    docs = rendered(overlay)
    configs, deployments = by_kind(docs, "ConfigMap"), by_kind(docs, "Deployment")
    nats_secret = by_kind(docs, "Secret")["daiban-nats"]["stringData"]
    conf = configs["nats-config"]["data"]["nats.conf"]
    assert unrestricted_users(conf) == []
    users = {user: variable for user, variable, _ in USER.findall(conf)}
    node = configs["daiban-node"]["data"]["DAIBAN_NODE"]
    # nats-server does not start with a variable missing: the nats pod has every password.
    assert set(users.values()) <= set(nats_secret)
    assert deployments["nats"]["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [
        {"secretRef": {"name": "daiban-nats"}}
    ]
    for service in expected_services(overlay):
        [container] = deployments[service]["spec"]["template"]["spec"]["containers"]
        # A service's pod holds its own password and no other.
        assert {"secretRef": {"name": "daiban-nats"}} not in container["envFrom"]
        env = {e["name"]: e for e in container["env"]}
        # $(DAIBAN_NODE): the ConfigMap daiban-node, through envFrom.
        assert env["DAIBAN_NATS_USER"]["value"].replace("$(DAIBAN_NODE)", node) == f"{node}-{service}"
        ref = env["DAIBAN_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "daiban-nats", "key": users[f"{node}-{service}"]}


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_only_what_must_talk_talk(overlay: str) -> None:
    docs = rendered(overlay)
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if "template" in d.get("spec", {})
    }
    policies = by_kind(docs, "NetworkPolicy")

    def allowed_in(pod: str, port: int) -> set[str]:
        """The pods of the node a policy lets reach `pod` on `port`."""
        found: set[str] = set()
        for policy in policies.values():
            if not _selects(policy["spec"]["podSelector"], pods[pod]):
                continue
            for rule in policy["spec"].get("ingress", []):
                if port not in {p["port"] for p in rule.get("ports", [])}:
                    continue
                for peer in rule.get("from", []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        found |= {n for n, labels in pods.items() if _selects(peer["podSelector"], labels)}
                    elif "ipBlock" in peer:
                        found.add("outside")
        return found

    for name, labels in pods.items():
        assert any(_selects(p["spec"]["podSelector"], labels) for p in policies.values()), name
    # Every pod of the node is covered by the default deny, in and out.
    deny = policies["daiban-default-deny"]["spec"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny
    assert all(_selects(deny["podSelector"], labels) for labels in pods.values())
    services = expected_services(overlay)
    assert allowed_in("postgres", 5432) == services | {"migrate"}
    assert allowed_in("nats", 4222) == services
    for name in services:
        assert allowed_in(name, PORTS[name]) == set(), "only the ingress controller and Prometheus"
    assert ("outside" in allowed_in("nats", 7422)) is (overlay == "county")
