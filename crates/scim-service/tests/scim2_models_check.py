"""Validates SCIM answers with scim2-models (PyPI), strictly, against models built from the
service's own /Schemas and /ResourceTypes.

Usage: scim2_models_check.py EXCHANGES.json, a file written by tests/idp_compat.rs:
{"schemas": </Schemas>, "resourceTypes": </ResourceTypes>,
 "exchanges": [{"method", "path", "status", "body"}]}.

The default ScimPolicy is the strict reading of RFC 7643/7644 (unknown attributes refused).
Exit status 0 when every answer validates, 1 otherwise (each failure printed).
"""

import json
import sys

from scim2_models import (
    Context,
    Extension,
    ListResponse,
    Resource,
    ResourceType,
    Schema,
)


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    ctx = Context.RESOURCE_QUERY_RESPONSE
    schemas = {
        s["id"]: Schema.model_validate(s, scim_ctx=ctx) for s in doc["schemas"]["Resources"]
    }
    models = {}
    for rt_doc in doc["resourceTypes"]["Resources"]:
        rt = ResourceType.model_validate(rt_doc, scim_ctx=ctx)
        base = Resource.from_schema(schemas[rt_doc["schema"]])
        extensions = [
            Extension.from_schema(schemas[e["schema"]])
            for e in rt_doc.get("schemaExtensions", [])
        ]
        model = base
        if extensions:
            param = extensions[0]
            for e in extensions[1:]:
                param = param | e
            model = base[param]
        models[rt.name] = model
    union = None
    for m in models.values():
        union = m if union is None else union | m

    contexts = {
        "POST": Context.RESOURCE_CREATION_RESPONSE,
        "PUT": Context.RESOURCE_REPLACEMENT_RESPONSE,
        "PATCH": Context.RESOURCE_PATCH_RESPONSE,
        "GET": Context.RESOURCE_QUERY_RESPONSE,
    }
    failures = 0
    checked = 0
    for ex in doc["exchanges"]:
        body = ex["body"]
        label = f'{ex["method"]} {ex["path"]} -> {ex["status"]}'
        scim_ctx = contexts.get(ex["method"], Context.RESOURCE_QUERY_RESPONSE)
        try:
            listed = body.get("schemas", [])
            if "urn:ietf:params:scim:api:messages:2.0:ListResponse" in listed:
                ListResponse[union].model_validate(body, scim_ctx=Context.SEARCH_RESPONSE)
            elif "meta" in body and body["meta"].get("resourceType") in models:
                models[body["meta"]["resourceType"]].model_validate(body, scim_ctx=scim_ctx)
            else:
                continue
            checked += 1
        except Exception as e:  # noqa: BLE001 - report every failure, keep going
            failures += 1
            print(f"REFUSED {label}: {e}\n{json.dumps(body, indent=1)}\n")
    print(f"scim2-models: {checked} answers checked, {failures} refused")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
