"""The Docker Compose stack (docker-compose.yml, Dockerfile, .env.example), checked without Docker.

First the Compose Specification's own JSON schema (vendored in tests/data/compose-spec), then what a schema
cannot say: pinned images, a health check and a restart policy on every service, dependencies that exist and
wait for the right thing, every ${VAR} documented in .env.example and no secret with a default, Celery on
Redis with every Airflow component configured alike, the DAGs' connections pointing at the services that
play each source, and a Dockerfile on the Airflow that pyproject.toml pins.

Each rule is a function that returns the problems it finds, so that the last tests can show each rule
rejecting a deliberately broken copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shlex
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from egov_demo.simulators.docmgmt import database as docmgmt
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from egov.core import roles
from egov.core.sources import SOURCES
from egov.orchestration.airflow_env import WAREHOUSE_CONN_IDS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA_DIR = ROOT / "tests" / "data" / "compose-spec"
#: Of tests/data/compose-spec/compose-spec.json, as check-jsonschema 0.39.0 records it (see the README there).
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"

#: The commands of the Airflow components (`command:` of their services); the first five are required.
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery worker", "celery flower")
#: Settings every Airflow component must share: a worker with another Fernet key or JWT secret fails at run time.
SHARED_SETTINGS = (
    "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
)
#: Version parts a tag needs to name one release of an official image: PostgreSQL's are MAJOR.MINOR since 10.
RELEASE_PARTS = {"postgres": 2}
DEFAULT_RELEASE_PARTS = 3
RESTART_POLICIES = {"no", "always", "unless-stopped", "on-failure"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEY")


# ---------------------------------------------------------------- reading the files as Compose does


class ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads it: a key given twice in one mapping is an error, not "the last one wins"."""


def _mapping_without_duplicates(loader: ComposeLoader, node: yaml.MappingNode) -> dict:
    keys = [loader.construct_object(key) for key, _value in node.value if key.tag != "tag:yaml.org,2002:merge"]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate key(s) {duplicates}", node.start_mark)
    return loader.construct_mapping(node, deep=True)


ComposeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_compose(text: str) -> dict:
    """The file as Compose reads it: anchors and ``<<`` merge keys resolved by the YAML loader.

    The round trip through JSON gives every service its own mappings (an alias would otherwise share one
    between services) and fails on anything that is not JSON data, which the schema could not judge.
    """
    return json.loads(json.dumps(yaml.load(text, Loader=ComposeLoader)))  # a SafeLoader


VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>))"
)


class InterpolationError(ValueError):
    """What `docker compose` refuses to start with: a required variable without a value, a stray ``$``."""


@dataclass(frozen=True)
class Reference:
    """One ``${NAME...}`` in the file."""

    name: str
    operator: str

    @property
    def required(self) -> bool:
        return self.operator in (":?", "?")

    @property
    def has_default(self) -> bool:
        return self.operator in (":-", "-")


def strings(node) -> Iterator[str]:
    """Every string value of the document (Compose interpolates values, never keys)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def references(document: dict) -> list[Reference]:
    found = []
    for text in strings(document):
        for match in VARIABLE.finditer(text):
            if match["invalid"] is not None:
                raise InterpolationError(f"invalid interpolation format in {text!r} (a literal $ is written $$)")
            if match["escaped"] is None:
                found.append(Reference(match["braced"] or match["plain"], match["operator"] or ""))
    return found


def interpolate(document, env: dict[str, str]):
    """``document`` with every ``${VAR}`` replaced as Compose replaces it, from ``env``."""

    def substitute(match: re.Match) -> str:
        if match["escaped"] is not None:
            return "$"
        if match["invalid"] is not None:
            raise InterpolationError(f"invalid interpolation format in {match.string!r}")
        name, operator, argument = match["braced"] or match["plain"], match["operator"] or "", match["argument"]
        value = env.get(name)
        # The forms with a colon treat an empty value as unset.
        present = value is not None and (value != "" or not operator.startswith(":"))
        if operator.endswith("-"):
            return value if present else argument
        if operator.endswith("?"):
            if not present:
                raise InterpolationError(f"required variable {name} is missing a value: {argument}")
            return value
        if operator.endswith("+"):
            return argument if present else ""
        return value or ""

    if isinstance(document, dict):
        return {key: interpolate(value, env) for key, value in document.items()}
    if isinstance(document, list):
        return [interpolate(value, env) for value in document]
    return VARIABLE.sub(substitute, document) if isinstance(document, str) else document


ENV_LINE = re.compile(r"(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)")


@dataclass(frozen=True)
class EnvExample:
    #: Variables set (possibly to nothing) in the file, as a copy of it to .env sets them.
    values: dict[str, str]
    #: Variables shown only commented out, with their default.
    commented: frozenset[str]


def parse_env_example(text: str) -> EnvExample:
    values, commented = {}, set()
    for number, line in enumerate(text.splitlines(), 1):
        match = ENV_LINE.fullmatch(line.strip())
        if match and match["commented"]:
            commented.add(match["name"])
        elif match:
            values[match["name"]] = match["value"]
        elif line.strip() and not line.lstrip().startswith("#"):
            # Quotes, `export` and the like mean something to Compose that this reader would not see.
            raise ValueError(f".env.example line {number} is not NAME=value: {line!r}")
    return EnvExample(values, frozenset(commented - values.keys()))


def filled_env(env_example: EnvExample) -> dict[str, str]:
    """.env.example with a stand-in for each value left to the user: a .env that compose accepts."""
    return {name: value or f"test-{name.lower().replace('_', '-')}" for name, value in env_example.values.items()}


@functools.cache
def compose_schema() -> dict:
    return json.loads((SCHEMA_DIR / "compose-spec.json").read_text(encoding="utf-8"))


@functools.cache
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pinned_version(distribution: str) -> str | None:
    """The ``==`` version pyproject.toml pins ``distribution`` to."""
    for dependency in pyproject()["project"]["dependencies"]:
        requirement = Requirement(dependency)
        if requirement.name == distribution:
            return next((spec.version for spec in requirement.specifier if spec.operator == "=="), None)
    return None


# ---------------------------------------------------------------- helpers over services


def services_of(document: dict) -> dict[str, dict]:
    return document.get("services") or {}


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def airflow_component(service: dict) -> str | None:
    words = " ".join(command_of(service))
    return next((name for name in AIRFLOW_COMPONENTS if words == name or words.startswith(name + " ")), None)


def environment_of(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def split_image(reference: str) -> tuple[str, str, str]:
    """``(repository, tag, digest)`` of an image reference; a registry's ``host:port`` is not a tag."""
    name, _, digest = reference.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest
    return name, "", digest


def image_repository(service: dict) -> str:
    return split_image(service.get("image") or "")[0]


def is_one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def volume_mounts(service: dict) -> list[tuple[str, str]]:
    """``(source, target)`` of each volume of the service; an anonymous volume has source ``""``."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append((volume.get("source", ""), volume.get("target", "")))
        else:
            parts = volume.split(":")
            mounts.append(("", parts[0]) if len(parts) == 1 else (parts[0], parts[1]))
    return mounts


def is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def service_named(document: dict, host: str | None) -> dict | None:
    return services_of(document).get(host or "")


# ---------------------------------------------------------------- the rules


def schema_problems(document: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [f"{'/'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
            for error in validator.iter_errors(document)]


def image_problems(reference: str, where: str) -> list[str]:
    """An image must name one release: a version tag, as precise as the project's releases are."""
    repository, tag, _digest = split_image(reference)
    if not tag:
        return [f"{where}: image {reference!r} has no tag"]
    version = re.match(r"v?(\d+(?:\.\d+)*)", tag)
    if not version:
        return [f"{where}: image {reference!r} has a tag that is not a version (latest, stable, ...)"]
    short_name = repository.removeprefix("docker.io/").removeprefix("library/")
    wanted = RELEASE_PARTS.get(short_name, DEFAULT_RELEASE_PARTS)
    if "/" not in short_name and version[1].count(".") + 1 < wanted:
        return [f"{where}: image {reference!r} names a version series, not a release (want {wanted} parts)"]
    return []


def compose_image_problems(document: dict, project_version: str) -> list[str]:
    problems = []
    for name, service in services_of(document).items():
        image = service.get("image")
        if "build" in service:
            tag = split_image(image or "")[1]
            if tag != project_version:
                problems.append(f"{name}: the image it builds is tagged {tag!r}, not the project's version "
                                f"{project_version}")
        elif not image:
            problems.append(f"{name}: no image")
        else:
            problems += image_problems(image, name)
    return problems


def healthcheck_problems(document: dict) -> list[str]:
    problems = []
    for name, service in services_of(document).items():
        check = service.get("healthcheck")
        if not check:
            problems.append(f"{name}: no healthcheck")
        elif check.get("disable") in (True, "true"):
            problems.append(f"{name}: healthcheck disabled")
        elif check.get("test") in (None, [], "", "NONE", ["NONE"]):
            problems.append(f"{name}: healthcheck has no test")
    return problems


def restart_problems(document: dict) -> list[str]:
    problems = []
    for name, service in services_of(document).items():
        restart = service.get("restart")
        if restart is None:
            problems.append(f"{name}: no restart policy (\"no\" for a one-shot service)")
        elif restart.partition(":")[0] not in RESTART_POLICIES:
            problems.append(f"{name}: unknown restart policy {restart!r}")
    return problems


def dependency_problems(document: dict) -> list[str]:
    """Every dependency exists, is not behind a profile the dependent lacks, and is awaited properly:
    a one-shot service until it has exited 0, any other until its health check passes."""
    services, problems, graph = services_of(document), [], {}
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on {depends_on} gives no condition to wait for")
            depends_on = {target: {} for target in depends_on}
        graph[name] = {target for target in depends_on if target in services}
        for target, how in depends_on.items():
            if target not in services:
                problems.append(f"{name}: depends on {target!r}, which is not a service")
                continue
            wanted = "service_completed_successfully" if is_one_shot(services[target]) else "service_healthy"
            if how.get("condition") != wanted:
                problems.append(f"{name}: waits for {target} with {how.get('condition')!r}, should be {wanted!r}")
            profiles = set(services[target].get("profiles") or ())
            if profiles and not profiles & set(service.get("profiles") or ()):
                problems.append(f"{name}: depends on {target}, which only runs with profile(s) {sorted(profiles)}")
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        problems.append(f"dependency cycle: {' -> '.join(cycle.args[1])}")
    return problems


def mount_problems(document: dict) -> list[str]:
    """Named volumes are declared (and used), bind-mounted files and build contexts are in the repository."""
    declared, used, problems = set(document.get("volumes") or {}), set(), []
    for name, service in services_of(document).items():
        for source, _target in volume_mounts(service):
            if is_bind(source):
                if not (ROOT / source).exists():
                    problems.append(f"{name}: mounts {source}, which is not in the repository")
            elif source:
                used.add(source)
                if source not in declared:
                    problems.append(f"{name}: mounts volume {source!r}, which is not declared under volumes")
        build = service.get("build")
        if build:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
            if not dockerfile.is_file():
                problems.append(f"{name}: builds from {dockerfile.relative_to(ROOT)}, which does not exist")
    problems += [f"volume {volume!r} is declared but no service mounts it" for volume in sorted(declared - used)]
    return problems


def variable_problems(document: dict, env_example: EnvExample) -> list[str]:
    """Every ${VAR} is listed in .env.example, and is required (``:?``) or given a default (``:-``); a secret
    is required, has no default in the file and no value in .env.example."""
    uses = defaultdict(list)
    try:
        for reference in references(document):
            uses[reference.name].append(reference)
    except InterpolationError as invalid:
        return [str(invalid)]
    problems = []
    for name, found in sorted(uses.items()):
        required, defaulted = any(r.required for r in found), any(r.has_default for r in found)
        if name not in env_example.values and name not in env_example.commented:
            problems.append(f"${{{name}}} is not listed in .env.example")
        elif required and name not in env_example.values:
            problems.append(f"{name} is required but only commented out in .env.example")
        if not required and not defaulted:
            problems.append(f"{name}: neither required (${{{name}:?...}}) nor given a default (${{{name}:-...}})")
        if any(word in name for word in SECRET_WORDS):
            if defaulted:
                problems.append(f"{name} is a secret with a default in docker-compose.yml")
            elif not required:
                problems.append(f"{name} is a secret that nothing requires (${{{name}:?...}})")
            if env_example.values.get(name):
                problems.append(f"{name} has a value in .env.example: leave secrets for the user to fill in")
    return problems


def celery_problems(document: dict) -> list[str]:
    """CeleryExecutor on every component, alike; the broker is the file's Redis, the result backend its
    PostgreSQL, the execution API its api-server; the workers can be scaled."""
    services, problems = services_of(document), []
    components = {name: airflow_component(service) for name, service in services.items()}
    components = {name: component for name, component in components.items() if component}
    problems += [f"no service runs `airflow {component}`" for component in AIRFLOW_COMPONENTS[:5]
                 if component not in components.values()]
    for name in components:
        env = environment_of(services[name])
        if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            problems.append(f"{name}: AIRFLOW__CORE__EXECUTOR is {env.get('AIRFLOW__CORE__EXECUTOR')!r}, "
                            "not CeleryExecutor")
        problems += [f"{name}: {key} is not set" for key in SHARED_SETTINGS if not env.get(key)]
        broker = urlsplit(env.get("AIRFLOW__CELERY__BROKER_URL", ""))
        if broker.scheme not in ("redis", "rediss") or image_repository(
                service_named(document, broker.hostname) or {}) != "redis":
            problems.append(f"{name}: the Celery broker {broker.scheme}://{broker.hostname} is not a Redis service "
                            "of this file")
        backend = urlsplit(env.get("AIRFLOW__CELERY__RESULT_BACKEND", ""))
        if backend.scheme != "db+postgresql" or image_repository(
                service_named(document, backend.hostname) or {}) != "postgres":
            problems.append(f"{name}: the Celery result backend {backend.scheme}://{backend.hostname} is not the "
                            "PostgreSQL service of this file")
        api = urlsplit(env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", ""))
        if components.get(api.hostname or "") != "api-server":
            problems.append(f"{name}: the execution API {api.hostname!r} is not the service running api-server")
        if components[name] == "celery worker" and ("container_name" in services[name] or services[name].get("ports")):
            problems.append(f"{name}: a container_name or host port means it cannot be scaled (--scale {name}=N)")
    for key in SHARED_SETTINGS:
        values = {environment_of(services[name]).get(key) for name in components}
        if len(values) > 1:
            problems.append(f"the Airflow components disagree on {key}")
    return problems


def connection_problems(document: dict) -> list[str]:
    """Each worker has the warehouse's and every registered source's AIRFLOW_CONN_*, pointing at the service
    that plays that system: the simulator serving that source with the same token, the document database's
    read-only role, a landing folder the worker mounts."""
    services, problems = services_of(document), []
    workers = [name for name, service in services.items() if airflow_component(service) == "celery worker"]
    wanted = [*((conn_id, job) for job, conn_id in WAREHOUSE_CONN_IDS.items()),
              *((source.connection_id, source) for source in SOURCES.values())]
    for worker in workers:
        env = environment_of(services[worker])
        mounted = [target for source, target in volume_mounts(services[worker]) if source and not is_bind(source)]
        for connection_id, source in wanted:
            variable = f"AIRFLOW_CONN_{connection_id.upper()}"
            try:
                connection = json.loads(env[variable])
            except KeyError:
                problems.append(f"{worker}: no {variable} for "
                                f"{source if isinstance(source, str) else source.key}")
                continue
            except json.JSONDecodeError as error:
                problems.append(f"{worker}: {variable} is not JSON ({error})")
                continue
            host = service_named(document, connection.get("host"))
            where = f"{worker}: {variable}"
            if isinstance(source, str) or source.interface == "sql":
                if image_repository(host or {}) != "postgres":
                    problems.append(f"{where} points at {connection.get('host')!r}, not the PostgreSQL service")
                if isinstance(source, str):  # the warehouse, as the job's own role, never the superuser
                    role = roles.LOGINS[source]
                    expected = (role.name, urlsplit(env.get("EGOV_DATABASE_URL", "")).path.lstrip("/"))
                    if connection.get("password") != env.get(role.password_var):
                        problems.append(f"{where}: its password is not ${role.password_var}, which egov db up sets")
                else:
                    expected = (docmgmt.READER_ROLE, docmgmt.DATABASE_NAME)
                if (connection.get("login"), connection.get("schema")) != expected:
                    problems.append(f"{where} signs in as {connection.get('login')!r} to {connection.get('schema')!r}, "
                                    f"not {expected[0]!r} to {expected[1]!r}")
            elif source.interface == "http":
                serves = command_of(host or {})
                listens = serves[serves.index("--port") + 1] if "--port" in serves[:-1] else None
                if serves[:2] != ["serve", source.key]:
                    problems.append(f"{where} points at {connection.get('host')!r}, which does not serve {source.key}")
                elif listens != str(connection.get("port")):
                    problems.append(f"{where} has port {connection.get('port')}, the simulator listens on {listens}")
                token = environment_of(host or {}).get(f"EGOV_{source.key.upper()}_TOKEN")
                if not connection.get("password") or connection.get("password") != token:
                    problems.append(f"{where}: its token is not the one the {source.key} simulator expects")
            else:
                path = Path(connection.get("extra", {}).get("path", ""))
                if path.name != source.key or not any(path.is_relative_to(target) for target in mounted):
                    problems.append(f"{where}: {path} is not the {source.key} folder of a volume the worker mounts")
    return problems


def dockerfile_base(text: str) -> str:
    """The image of the first FROM, with the ARGs declared before it resolved to their defaults."""
    args = {}
    for line in text.replace("\\\n", " ").splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "ARG":
            name, _, default = rest.strip().partition("=")
            args[name] = default.strip('"')
        elif instruction.upper() == "FROM":
            image = next(word for word in rest.split() if not word.startswith("--"))
            return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: args.get(match[1], ""), image)
    raise ValueError("the Dockerfile has no FROM")


def dockerfile_problems(text: str) -> list[str]:
    base = dockerfile_base(text)
    problems = image_problems(base, "Dockerfile FROM")
    repository, tag, _digest = split_image(base)
    airflow_version, _, python = tag.partition("-python")
    pinned = pinned_version("apache-airflow")
    if repository != "apache/airflow":
        problems.append(f"Dockerfile: FROM {base}, not the official apache/airflow image")
    if airflow_version != pinned:
        problems.append(f"Dockerfile: FROM Airflow {airflow_version}, pyproject.toml pins apache-airflow=={pinned}")
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    if f"\napache-airflow=={pinned}\n" not in f"\n{constraints}\n":
        problems.append(f"constraints.txt does not pin apache-airflow=={pinned}")
    if not python or python not in SpecifierSet(pyproject()["project"]["requires-python"]):
        problems.append(f"Dockerfile: FROM Python {python or '(unstated)'}, pyproject.toml requires "
                        f"{pyproject()['project']['requires-python']}")
    if "apache-airflow-providers-celery" not in text:
        problems.append("Dockerfile: CeleryExecutor needs apache-airflow-providers-celery, which it does not install")
    return problems


def dockerfile_stages(text: str) -> dict[str, str]:
    """Each named stage of the Dockerfile and its instructions (continuation lines joined)."""
    stages, name = {}, None
    for line in text.replace("\\\n", " ").splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            words = rest.split()
            name = words[words.index("AS") + 1] if "AS" in words else ""
            stages[name] = ""
        elif name is not None:
            stages[name] += line + "\n"
    return stages


def image_extra_problems(document: dict, dockerfile: str) -> list[str]:
    """The Airflow image installs the product without the demo extra, the simulators' image with it, and each
    service builds the stage it needs: a service running egov_demo the simulators', every other the Airflow one."""
    stages, problems = dockerfile_stages(dockerfile), []
    installs = {name: re.findall(r"-e\s+\"?/opt/egov(\[[\w,]+\])?", body) for name, body in stages.items()}
    if installs.get("airflow") != [""]:
        problems.append(f"Dockerfile: stage airflow installs {installs.get('airflow')}, not the product without extras")
    if "[demo]" not in installs.get("simulators", []):
        problems.append("Dockerfile: stage simulators does not install the demo extra")
    for name, service in services_of(document).items():
        build = service.get("build")
        if not build:
            continue
        target = build.get("target") if isinstance(build, dict) else None
        runs_demo = "egov_demo" in json.dumps([service.get("entrypoint"), service.get("command")])
        wanted = "simulators" if runs_demo else "airflow"
        if target != wanted:
            problems.append(f"{name}: builds stage {target!r}, should be {wanted!r}")
    return problems


def stack_problems(document: dict, env_example: EnvExample) -> list[str]:
    """Every rule above on a compose document (as written) and its .env.example."""
    try:
        resolved = interpolate(document, filled_env(env_example))
    except InterpolationError as invalid:
        return [str(invalid)]
    schema = dict.fromkeys([*schema_problems(document), *schema_problems(resolved)])
    return [*schema, *compose_image_problems(resolved, pyproject()["project"]["version"]),
            *healthcheck_problems(resolved), *restart_problems(resolved), *dependency_problems(resolved),
            *mount_problems(resolved), *variable_problems(document, env_example), *celery_problems(resolved),
            *connection_problems(resolved)]


# ---------------------------------------------------------------- the files as committed


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> EnvExample:
    return parse_env_example(ENV_EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resolved(compose, env_example) -> dict:
    return interpolate(compose, filled_env(env_example))


def test_the_vendored_schema_is_the_compose_specification_recorded_in_its_readme():
    schema_file = SCHEMA_DIR / "compose-spec.json"
    assert hashlib.sha256(schema_file.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    assert "Apache License" in (SCHEMA_DIR / "LICENSE").read_text(encoding="utf-8")
    jsonschema.Draft202012Validator.check_schema(compose_schema())
    assert compose_schema()["title"] == "Compose Specification"


def test_the_compose_file_follows_the_compose_specification(compose, resolved):
    assert schema_problems(compose) == []
    assert schema_problems(resolved) == []


def test_every_image_names_a_release_and_the_built_one_the_project_version(resolved):
    assert compose_image_problems(resolved, pyproject()["project"]["version"]) == []


def test_every_service_has_a_health_check_and_a_restart_policy(resolved):
    assert healthcheck_problems(resolved) == []
    assert restart_problems(resolved) == []


def test_dependencies_exist_and_wait_for_health_or_completion(resolved):
    assert dependency_problems(resolved) == []
    assert mount_problems(resolved) == []


def test_every_variable_is_in_env_example_and_every_secret_is_required(compose, env_example):
    assert variable_problems(compose, env_example) == []


def test_a_copy_of_env_example_left_unfilled_stops_compose_naming_the_secret(compose, env_example):
    required = sorted({reference.name for reference in references(compose) if reference.required})
    assert "POSTGRES_PASSWORD" in required and "AIRFLOW_FERNET_KEY" in required
    for name in required:
        env = {**filled_env(env_example), name: ""}
        with pytest.raises(InterpolationError, match=rf"required variable {name} is missing a value"):
            interpolate(compose, env)


def test_airflow_runs_on_celery_with_the_stacks_redis_and_postgres(resolved):
    assert celery_problems(resolved) == []


def test_the_dags_reach_every_registered_source_through_the_stack(resolved):
    assert connection_problems(resolved) == []


def test_the_dockerfile_builds_on_the_airflow_that_pyproject_pins():
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_the_airflow_image_has_no_demo_extra_and_the_simulators_image_has_it(resolved):
    assert image_extra_problems(resolved, DOCKERFILE.read_text(encoding="utf-8")) == []


# ---------------------------------------------------------------- each rule can fail


def _set(path: str, value) -> Callable[[dict], None]:
    """A change to the document: ``value`` at ``path`` (keys separated by ``/``), or the key removed if None."""

    def change(document: dict) -> None:
        *parents, last = path.split("/")
        node = document
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


BROKEN_DOCUMENTS = [
    ("no-healthcheck", _set("services/redis/healthcheck", None), "redis: no healthcheck"),
    ("healthcheck-disabled", _set("services/docs/healthcheck", {"disable": True}), "docs: healthcheck disabled"),
    ("latest-image", _set("services/redis/image", "redis:latest"), "tag that is not a version"),
    ("untagged-image", _set("services/postgres/image", "postgres"), "'postgres' has no tag"),
    ("version-series", _set("services/redis/image", "redis:7.2-bookworm"), "names a version series"),
    ("built-image-unversioned", _set("services/airflow-worker/image", "egov-warehouse-airflow:dev"),
     "not the project's version"),
    ("unknown-top-level-key", _set("service", {}), "'service' does not match any of the regexes"),
    ("misspelt-service-key", _set("services/docs/restrat", "always"), "('restrat' was unexpected)"),
    ("unknown-dependency", _set("services/docs/depends_on/nginx-init", {"condition": "service_healthy"}),
     "depends on 'nginx-init', which is not a service"),
    ("one-shot-awaited-as-healthy", _set("services/airflow-worker/depends_on/sim-seed/condition", "service_healthy"),
     "should be 'service_completed_successfully'"),
    ("dependency-cycle", _set("services/postgres/depends_on", {"docs": {"condition": "service_healthy"}}),
     "dependency cycle"),
    ("depends-on-a-profile", _set("services/airflow-scheduler/depends_on/flower", {"condition": "service_healthy"}),
     "only runs with profile(s) ['flower']"),
    ("no-restart-policy", _set("services/docs/restart", None), "docs: no restart policy"),
    ("undeclared-volume", _set("services/docs/volumes", ["docs-cache:/var/cache/nginx"]), "not declared"),
    ("unused-volume", _set("volumes/spare", {}), "volume 'spare' is declared but no service mounts it"),
    ("undocumented-variable", _set("services/docs/environment", {"TZ": "${DOCS_TIMEZONE:-UTC}"}),
     "${DOCS_TIMEZONE} is not listed in .env.example"),
    ("shell-variable-left-to-compose", _set("services/airflow-triggerer/healthcheck/test",
                                            ["CMD-SHELL", "airflow jobs check --hostname ${HOSTNAME}"]),
     "${HOSTNAME} is not listed"),
    ("secret-with-a-default", _set("services/postgres/environment/POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-egov}"),
     "POSTGRES_PASSWORD is a secret with a default"),
    ("local-executor", _set("services/airflow-worker/environment/AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
     "airflow-worker: AIRFLOW__CORE__EXECUTOR is 'LocalExecutor'"),
    ("broker-elsewhere", _set("services/airflow-scheduler/environment/AIRFLOW__CELERY__BROKER_URL",
                              "redis://cache.example.internal:6379/0"), "is not a Redis service of this file"),
    ("worker-not-scalable", _set("services/airflow-worker/container_name", "worker"), "cannot be scaled"),
    ("source-without-connection", _set("services/airflow-worker/environment/AIRFLOW_CONN_CA_API", None),
     "no AIRFLOW_CONN_CA_API for ca"),
    ("wrong-simulator-token", _set("services/sim-ca/environment/EGOV_CA_TOKEN", "${EGOV_PORTAL_TOKEN}"),
     "the ca simulator expects"),
]


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in BROKEN_DOCUMENTS],
                         ids=[case[0] for case in BROKEN_DOCUMENTS])
def test_a_broken_compose_file_is_rejected(compose, env_example, change, expected):
    broken = json.loads(json.dumps(compose))
    change(broken)
    problems = stack_problems(broken, env_example)
    assert any(expected in problem for problem in problems), problems


def test_the_committed_files_pass_every_rule_together(compose, env_example):
    assert stack_problems(compose, env_example) == []


def test_a_key_given_twice_is_rejected_as_compose_rejects_it():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    anchor = "    image: nginx:"
    assert anchor in text
    with pytest.raises(yaml.constructor.ConstructorError, match=r"duplicate key\(s\) \['image'\]"):
        load_compose(text.replace(anchor, "    image: nginx:1.28.0-alpine\n" + anchor, 1))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}", "FROM apache/airflow:latest",
     "tag that is not a version"),
    ("FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}", "FROM apache/airflow",
     "'apache/airflow' has no tag"),
    ("ARG AIRFLOW_VERSION=3.3.2", "ARG AIRFLOW_VERSION=3.2.1", "FROM Airflow 3.2.1, pyproject.toml pins"),
    ("ARG PYTHON_VERSION=3.11", "ARG PYTHON_VERSION=3.12", "FROM Python 3.12"),
    (" apache-airflow-providers-celery", "", "needs apache-airflow-providers-celery"),
])
def test_a_broken_dockerfile_is_rejected(old, new, expected):
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert old in text
    assert any(expected in problem for problem in dockerfile_problems(text.replace(old, new))), expected


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=change-me\n", "POSTGRES_PASSWORD has a value in .env.example"),
    ("REDIS_PASSWORD=\n", "# REDIS_PASSWORD=\n", "REDIS_PASSWORD is required but only commented out"),
    ("EGOV_CA_TOKEN=\n", "", "${EGOV_CA_TOKEN} is not listed in .env.example"),
])
def test_a_broken_env_example_is_rejected(compose, old, new, expected):
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    problems = variable_problems(compose, parse_env_example(text.replace(old, new)))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(("where", "old", "new", "expected"), [
    ("dockerfile", 'apache-airflow-providers-fab -e /opt/egov', 'apache-airflow-providers-fab -e "/opt/egov[demo]"',
     "stage airflow installs"),
    ("dockerfile", '-e "/opt/egov[demo]"', "-e /opt/egov", "stage simulators does not install the demo extra"),
    ("compose", "services/sim-ca/build/target", "airflow", "sim-ca: builds stage 'airflow', should be 'simulators'"),
    ("compose", "services/airflow-worker/build/target", "simulators", "airflow-worker: builds stage 'simulators'"),
])
def test_an_image_with_the_wrong_extras_is_rejected(resolved, where, old, new, expected):
    text, document = DOCKERFILE.read_text(encoding="utf-8"), json.loads(json.dumps(resolved))
    if where == "dockerfile":
        assert old in text
        text = text.replace(old, new)
    else:
        _set(old, new)(document)
    assert any(expected in problem for problem in image_extra_problems(document, text)), expected


def test_only_the_bootstrap_and_the_simulated_agency_hold_the_superusers_password(compose):
    """Every Airflow component signs in with its job's role; the superuser's password is airflow-init's alone."""
    holders = sorted(name for name, service in services_of(compose).items()
                     if "POSTGRES_PASSWORD" in json.dumps(service.get("environment", {}))
                     and name != "postgres")
    assert holders == ["airflow-init", "sim-seed"]
