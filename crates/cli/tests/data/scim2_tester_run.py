"""Run every check category of scim2-tester against a SCIM server and print a JSON summary.

Usage: python scim2_tester_run.py BASE_URL TOKEN

Every category, the client describing the server from what its /Schemas, /ResourceTypes and
/ServiceProviderConfig publish (scim2-tester's own discovery).

Used by crates/cli/tests/scim2_tester.rs (which starts `fedkit scim serve`); also runnable by
hand against any server (docs/scim.md). The summary is one JSON object on stdout:
{"version": ..., "categories": [every tag scim2-tester registers],
 "ran": [the tags of the checks that ran], "results": [{"title", "status", "tags",
 "resource_type", "reason"}, ...]}.
Exit status 0 once the summary is printed, whatever the checks found: the Rust test judges.
"""

import importlib.metadata
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server, get_all_available_tags



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
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
