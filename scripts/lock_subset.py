"""Print the part of requirements.lock that some packages need, hashes and markers kept.

    python scripts/lock_subset.py requirements.lock wsis-shared wsis-voting ... > runtime.lock

The lock is `uv export` output: each entry is `name==version [; marker] \\`, its `--hash` lines
and a `# via` block naming the packages that require it. An entry is kept when it is one of the
roots, or when a kept entry (or a root) requires it — so the image installs the services'
dependencies from the same hash-pinned lock as development, without the dev group. Standard
library only: it runs in the Docker build before anything is installed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> list[tuple[str, list[str], set[str]]]:
    """(name, lines, required-by) of every entry, in file order."""
    entries: list[tuple[str, list[str], set[str]]] = []
    for line in text.splitlines():
        match = _NAME.match(line)
        if match:
            entries.append((_normalise(match.group(1)), [line], set()))
            continue
        if not entries or not line.startswith(" "):
            continue
        entries[-1][1].append(line)
        comment = line.strip()
        if comment.startswith("# via"):
            parent = comment.removeprefix("# via").strip()
        elif comment.startswith("#"):
            parent = comment.lstrip("#").strip()
        else:
            continue
        if parent:
            entries[-1][2].add(_normalise(parent.split(":")[0]))
    return entries


def subset(text: str, roots: list[str]) -> str:
    entries = parse(text)
    keep = {_normalise(root) for root in roots}
    changed = True
    while changed:
        changed = False
        for name, _, parents in entries:
            if name not in keep and parents & keep:
                keep.add(name)
                changed = True
    lines = [line for name, block, _ in entries if name in keep for line in block]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        sys.stderr.write("usage: lock_subset.py LOCK ROOT...\n")
        return 2
    sys.stdout.write(subset(Path(argv[1]).read_text(), argv[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
