"""Run every check category of scim2-tester against a SCIM server and print a JSON summary.

Usage: python scim2_tester_run.py BASE_URL TOKEN

Two passes:
- "results": every category, the client describing the server from what its /Schemas,
  /ResourceTypes and /ServiceProviderConfig publish (scim2-tester's own discovery);
- "photos_ref_hidden": every category again on User only, the client described from the same
  documents minus the `$ref` sub-attribute of User `photos`. scim2-tester 0.5.2 copies the last
  segment of a `$ref` it generated into `value` ("https://UUID.test" -> "UUID.test"), which is not
  a valid `photos.value` (a reference, RFC 7643 §4.1.2): its own model refuses it before any
  request is sent. This pass shows the User checks that crash on it pass otherwise.

Used by crates/cli/tests/scim2_tester.rs (which starts `fedkit scim serve`); also runnable by
hand against any server (docs/scim.md). The summary is one JSON object on stdout:
{"version": ..., "categories": [every tag scim2-tester registers],
 "ran": [the tags of the checks that ran], "results": [{"title", "status", "tags",
 "resource_type", "reason"}, ...], "photos_ref_hidden": [the same, second pass]}.
Exit status 0 once the summary is printed, whatever the checks found: the Rust test judges.
"""

import importlib.metadata
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ResourceType, Schema, ScimProvider, ServiceProviderConfig
from scim2_tester import check_server, get_all_available_tags

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def summarize(results):
    return [
        {
            "title": r.title,
            "status": r.status.name,
            "tags": sorted(r.tags),
            "resource_type": r.resource_type,
            "reason": r.reason,
        }
        for r in results
    ]


def provider_without_photos_ref(http):
    """The server as it describes itself, minus User photos.$ref."""

    def resources(path):
        answer = http.get(path)
        answer.raise_for_status()
        return answer.json()["Resources"]

    schemas = resources("Schemas")
    for schema in schemas:
        if schema["id"] != USER:
            continue
        for attr in schema["attributes"]:
            if attr["name"] == "photos":
                attr["subAttributes"] = [
                    sub for sub in attr["subAttributes"] if sub["name"] != "$ref"
                ]
    config = http.get("ServiceProviderConfig")
    config.raise_for_status()
    return ScimProvider.from_discovery(
        [Schema.model_validate(s) for s in schemas],
        [ResourceType.model_validate(r) for r in resources("ResourceTypes")],
        ServiceProviderConfig.model_validate(config.json()),
    )


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    client = SyncSCIMClient(http)
    categories = sorted(get_all_available_tags())
    # Every registered category, explicitly (include_tags=None would also run them all).
    results = check_server(client, include_tags=set(categories))
    ran = sorted({t for r in results for t in r.tags})
    summary = {
        "version": importlib.metadata.version("scim2-tester"),
        "categories": categories,
        "ran": ran,
        "results": summarize(results),
    }
    second = SyncSCIMClient(http, provider=provider_without_photos_ref(http))
    summary["photos_ref_hidden"] = summarize(
        check_server(second, include_tags=set(categories), resource_types=["User"])
    )
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
