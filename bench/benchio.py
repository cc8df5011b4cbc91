"""The end every benchmark shares: the machine load after the run beside the load before it, and the JSON record.

    from benchio import finish   # bench/ is on sys.path when a script of it runs
    finish(res, args.json)       # res holds "load_before" = os.getloadavg() taken at the start
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def finish(res: dict, json_path: str | None) -> None:
    """Record ``load_after``, print the 1-minute load before -> after, write ``res`` to ``json_path`` if given."""
    res["load_after"] = os.getloadavg()
    print(f"load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f} (1-minute average)")
    if json_path:
        Path(json_path).write_text(json.dumps(res, indent=2, default=str))
