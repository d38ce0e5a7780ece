"""Shares of the series for machines working at once: balanced by size, longest first, the same every time.

A job-array engine runs the same command on each machine and tells it its place by an environment
variable. The share a run builds is, in this order of precedence:

1. ``--shard K/N`` on the command line (a GitHub Actions matrix passes its ``share`` value so);
2. ``JOB_COMPLETION_INDEX`` (a Kubernetes Indexed Job; 0-based), with N from ``--shards N``;
3. ``SLURM_ARRAY_TASK_ID`` (a Slurm job array), counted from ``SLURM_ARRAY_TASK_MIN`` (default 0),
   with N from ``--shards N``, else ``SLURM_ARRAY_TASK_COUNT``;
4. none: the whole series.
"""
from __future__ import annotations

import heapq
import os
import re

from ..book.errors import SettingsError
from ..book.numbers import whole
from ..system.cache import digest
from .catalogue import Volume

# More shares than any engine runs at once only makes empty ones.
MAX_SHARES = 10_000
SHARE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def divide(volumes: list[Volume], n: int, sizes: dict[str, int] | None = None) -> list[list[Volume]]:
    """Deal the volumes into n shares, largest first to the share with least so far (LPT); each in catalogue order."""
    sizes = sizes if sizes is not None else {v.id: v.size for v in volumes}
    order = {v.id: i for i, v in enumerate(volumes)}
    # Ties are broken by catalogue order, then by fewer volumes and share number: the same on every machine,
    # and volumes of no size (missing: they fail at once) still spread.
    loads = [(0, 0, k) for k in range(n)]
    shares: list[list[Volume]] = [[] for _ in range(n)]
    for volume in sorted(volumes, key=lambda v: (-sizes[v.id], order[v.id])):
        load, count, k = heapq.heappop(loads)
        shares[k].append(volume)
        heapq.heappush(loads, (load + sizes[volume.id], count + 1, k))
    return [sorted(share, key=lambda v: order[v.id]) for share in shares]


def parse_share(text: str) -> tuple[int, int]:
    """Read 'K/N', share K (from 1) of N."""
    found = SHARE.fullmatch(text)
    k, n = (whole(found[1], MAX_SHARES), whole(found[2], MAX_SHARES)) if found else (None, None)
    if not k or not n or k > n:
        raise SettingsError(f"a share is K/N, K from 1 to N, N at most {MAX_SHARES} (e.g. 2/4), not '{text[:40]}'")
    return k, n


def chosen_share(shard: str | None, shards: int | None, env=os.environ) -> tuple[int, int] | None:
    """Return the share this run builds, (K, N), or None for the whole series (see the module's precedence)."""
    if shard:
        return parse_share(shard)
    for name, start, count in (("JOB_COMPLETION_INDEX", "0", None),
                               ("SLURM_ARRAY_TASK_ID", env.get("SLURM_ARRAY_TASK_MIN", "0"),
                                env.get("SLURM_ARRAY_TASK_COUNT"))):
        if not env.get(name, "").strip():
            continue
        index, first = whole(env[name].strip(), MAX_SHARES), whole(start.strip(), MAX_SHARES)
        n = shards or (whole(count.strip(), MAX_SHARES) if count else None)
        if index is None or first is None or not n:
            raise SettingsError(f"{name}={env[name][:20]} gives this machine's place but not how many share the "
                                "series: pass --shards N (or --shard K/N)")
        return parse_share(f"{index - first + 1}/{n}")
    return None


def matrix(volumes: list[Volume], n: int, keys: dict[str, str]) -> dict:
    """Return the GitHub Actions matrix of n shares: each its K/N, its volumes and the hash of their inputs."""
    include = []
    for k, share in enumerate(divide(volumes, n), start=1):
        include.append({"share": f"{k}/{n}", "volumes": " ".join(v.id for v in share),
                        "key": digest(*(keys[v.id] for v in share))[:32]})
    return {"include": include}
