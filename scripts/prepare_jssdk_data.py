#!/usr/bin/env python3
"""Prepare a fresh sandbox for the JS SDK's integration suite, through the portal's REST API only.

    scripts/prepare_jssdk_data.py http://127.0.0.1:PORT/rest/1/<secret>/

The suite expects what its reference portal holds: task 3 gone (it checks the answer for a task that does
not exist) and more than 50 companies whose title starts with "A", created within the last six months.
"""

from __future__ import annotations

import json
import sys
import urllib.request


def call(webhook: str, method: str, params: dict[str, object]) -> object:
    request = urllib.request.Request(webhook.rstrip("/") + f"/{method}", data=json.dumps(params).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    webhook = sys.argv[1]
    call(webhook, "tasks.task.delete", {"taskId": 3})
    commands = {f"c{i}": f"crm.company.add?fields[TITLE]=Atlas%20{i:02d}" for i in range(50)}
    call(webhook, "batch", {"halt": 0, "cmd": commands})
    call(webhook, "batch", {"halt": 0, "cmd": {f"d{i}": f"crm.company.add?fields[TITLE]=Aurora%20{i:02d}"
                                                for i in range(10)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
