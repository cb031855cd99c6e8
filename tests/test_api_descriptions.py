"""The API described for tools: the OpenAPI 3.1 document (validated by a real
validator, covering every route and method of the app, with the parameters,
media types, security scheme and errors), and the Postman collection (valid
against a JSON Schema of the v2.1 format, and run green by newman against a
live server, with a token and without)."""
from __future__ import annotations

import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import pytest
from openapi_spec_validator import validate

from servers import flexigift_serve

HERE = pathlib.Path(__file__).parent
POSTMAN_SCHEMA = json.loads((HERE / "schemas" / "postman-collection-v2.1.schema.json").read_text())
NEWMAN_HOME = pathlib.Path(os.environ.get("FLEXIGIFT_NEWMAN_HOME",
                                          pathlib.Path.home() / ".cache" / "flexigift-newman"))


def routed(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.rstrip("/") or "/"
        path = path.replace("<int:id>", "{id}").replace("<name>", "{name}").replace(
            "<path:filename>", "{filename}")
        for method in rule.methods - {"HEAD"}:
            found.add((path, method.lower()))
    return found


def test_the_openapi_document_validates_and_covers_every_route(app, client):
    document = client.get("/openapi.json").json
    validate(document)
    assert document["openapi"] == "3.1.0"
    described = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert routed(app) == described
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}


def test_collections_list_their_filters_and_page_parameters(app, client):
    paths = client.get("/openapi.json").json["paths"]
    names = {parameter["name"] for parameter in paths["/gift_cards"]["get"]["parameters"]}
    assert {"limit", "offset", "order", "fields", "zoom", "after", "before", "format"} <= names
    assert {"card_id", "balance", "status", "expiry_date", "user_id"} <= names
    sub = {parameter["name"] for parameter in paths["/users/{id}/gift_cards"]["get"]["parameters"]}
    assert {"id", "card_id", "limit"} <= sub


def test_writes_name_their_body_and_every_error(app, client):
    document = client.get("/openapi.json").json
    redeem = document["paths"]["/gift_cards/{id}/redeem"]["post"]
    body = redeem["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert {"amount", "product_id", "order_reference"} <= set(schema["properties"])
    assert {"201", "400", "401", "403", "404", "409", "412", "415", "422", "429", "503"} <= set(redeem["responses"])
    media = set(redeem["responses"]["201"]["content"])
    assert media == {"application/hal+json", "application/hal+xml", "application/vnd.siren+json",
                     "application/json", "text/html", "application/prs.hal-forms+json"}
    create = document["paths"]["/gift_cards"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    card = document["components"]["schemas"][create["$ref"].rsplit("/", 1)[1]]
    assert {"card_id", "issuer"} <= set(card.get("required", []))


def test_the_home_links_the_descriptions_and_the_cli_exports_them(app, client, tmp_path):
    tmp_path = tmp_path / "export"
    tmp_path.mkdir()
    links = client.get("/").json["_links"]
    assert links["service-desc"]["href"].endswith("/openapi.json")
    assert links["fg:postman"]["href"].endswith("/postman.json")
    assert client.get("/rels/postman", headers={"Accept": "application/json"}).json["title"]
    for kind in ("openapi", "postman"):
        target = tmp_path / f"{kind}.json"
        done = subprocess.run([sys.executable, "-m", "flexigift", "export", kind, "-o", str(target),
                               "--base-url", "http://localhost:3000"],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        served = client.get(f"/{kind}.json").json
        assert json.loads(target.read_text()) == served
    assert not list(tmp_path.glob("*.db"))  # exporting writes no database anywhere


def test_the_postman_collection_is_valid_v2_1(client):
    collection = client.get("/postman.json").json
    jsonschema.validate(collection, POSTMAN_SCHEMA)
    folders = [item["name"] for item in collection["item"]]
    assert folders[:5] == ["Issuers", "Users", "Products", "Gift cards", "Ledger"]
    assert {variable["key"] for variable in collection["variable"]} >= {"baseUrl", "token"}
    assert collection["auth"]["type"] == "bearer"
    broken = json.loads(json.dumps(collection))
    del broken["item"][0]["item"][0]["request"]["method"]
    broken["item"][0]["item"][0]["request"]["method"] = "FETCH"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, POSTMAN_SCHEMA)


def _newman() -> list[str] | None:
    """newman, installed with npm into a cache outside the repository on first use (one
    test process at a time: the others wait on a lock)."""
    binary = NEWMAN_HOME / "node_modules" / ".bin" / "newman"
    if shutil.which("npm") is None or shutil.which("node") is None:
        return None
    NEWMAN_HOME.mkdir(parents=True, exist_ok=True)
    with open(NEWMAN_HOME / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NEWMAN_HOME),
                            "newman@6"], capture_output=True, text=True, timeout=600)
    return [str(binary)] if binary.exists() else None


@pytest.fixture(scope="module")
def newman():
    command = _newman()
    if command is None:
        pytest.skip("the Postman run needs node and npm (to install newman): not found, or npm failed")
    return command


@pytest.mark.parametrize("auth", ["auth-off", "auth-on"])
def test_the_postman_collection_runs_green_with_newman(newman, database_url, tmp_path, auth):
    options = ("--auth",) if auth == "auth-on" else ()
    with flexigift_serve(database_url, *options) as server:
        collection = tmp_path / "flexigift.postman.json"
        status, body = server.api("GET", "/postman.json")
        assert status == 200
        collection.write_bytes(body)
        variables = ["--env-var", f"baseUrl={server.url}"]
        if auth == "auth-on":
            token = server.cli("token", "create", "--role", "admin", "--name", "newman").splitlines()[0]
            variables += ["--env-var", f"token={token}"]
        for attempt in range(2):  # twice: a second run against the same data is green too
            report = tmp_path / f"report-{attempt}.json"
            done = subprocess.run([*newman, "run", str(collection), *variables, "--bail", "--color", "off",
                                   "--reporters", "cli,json", "--reporter-json-export", str(report)],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
            stats = json.loads(report.read_text())["run"]["stats"]
            assert stats["requests"]["failed"] == 0 and stats["assertions"]["failed"] == 0
            assert stats["requests"]["total"] >= 20 and stats["assertions"]["total"] >= 20
