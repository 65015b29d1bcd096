"""Condensed markdown tables from bench/results/pull-*.json (what docs/performance.md shows).

    .venv/bin/python -m bench.report bench/results/pull-sqlite-1000000-after.json [...]

Per kind and concurrency: p50/p99 ms and requests/s of each target, CPU ms per request
(server processes, plus the PostgreSQL backends on PostgreSQL), raw p50 and queries/s,
and the ratios os/bare (requests/s, same worker count) and os p50 / raw p50.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.mix import BROAD, SELECTIVE

ORDER = {kind: i for i, kind in enumerate(SELECTIVE + BROAD)}


def _targets(results: dict[str, Any]) -> list[str]:
    names: set[str] = set()
    for result in results.values():
        names.update(cell.split("@")[0] for cell in result["cells"])
    rank = {"os": 0, "bare": 1}
    return sorted(names, key=lambda n: (rank[n.rstrip("0123456789")], n))


def table(path: Path) -> str:
    data = json.loads(path.read_text())
    results = data["results"]
    targets = _targets(results)
    lines = [
        f"**{data['dialect']}, {data['orders']:,} orders** (big account {data['big']:,}, "
        f"small {data['small']:,}; load average at the end {data['load'][0]:.1f}) — "
        f"`{path.name}`",
        "",
    ]
    head = ["account", "kind", "c"]
    for target in targets:
        head += [f"{target} p50/p99 ms", f"{target} req/s", f"{target} cpu ms"]
    head += ["raw p50 ms", "raw q/s"]
    ratio_pairs = [(t, "bare" + t[-1]) for t in targets
                   if not t.startswith("bare") and "bare" + t[-1] in targets]
    head += [f"{o}/{b} req/s" for o, b in ratio_pairs]
    head += [f"{b}/{o} cpu" for o, b in ratio_pairs]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for key in sorted(results, key=lambda k: (k.split("/")[0] != "big",
                                               ORDER[k.split("/")[1]])):
        result = results[key]
        raw = result["raw"]
        label, kind = key.split("/")
        concurrencies = sorted({int(c.split("@")[1]) for c in result["cells"]})
        for concurrency in concurrencies:
            row = [label, kind, str(concurrency)]
            for target in targets:
                cell = result["cells"].get(f"{target}@{concurrency}")
                if cell is None or cell["rps"] == 0:
                    row += ["-", "0" if cell else "-", "-"]
                    continue
                row += [f"{cell['p50_ms']:.1f}/{cell['p99_ms']:.1f}", f"{cell['rps']:,.0f}",
                        f"{cell['cpu_ms']:.2f}"]
            row += [f"{raw['p50_ms']:.2f}", f"{raw['qps']:,.0f}"]
            cells = result["cells"]
            for o, b in ratio_pairs:
                oc, bc = cells.get(f"{o}@{concurrency}"), cells.get(f"{b}@{concurrency}")
                ok = oc and bc and bc["rps"] and oc["rps"]
                row.append(f"{oc['rps'] / bc['rps']:.0%}" if ok else "-")
            for o, b in ratio_pairs:
                oc, bc = cells.get(f"{o}@{concurrency}"), cells.get(f"{b}@{concurrency}")
                ok = oc and bc and bc["rps"] and oc["rps"]
                row.append(f"{bc['cpu_ms'] / oc['cpu_ms']:.0%}" if ok else "-")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    for name in argv if argv is not None else sys.argv[1:]:
        print(table(Path(name)))
        print()


if __name__ == "__main__":
    main()
