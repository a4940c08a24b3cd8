"""What the whole stack costs with nothing to do: each process's share of a core, sampled from
/proc over 30 s after 20 s of settling (`WSIS_KAFKA_BOOTSTRAP=… WSIS_MONGO_URI=…
python -m bench.idle_stack`). The broker and mongod must run on this machine. The ceiling is
one core: every figure is a fraction of it."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.stack import cpu_seconds, running_stack

SETTLE_S = 20
SAMPLE_S = 30


def _stack_processes() -> dict[str, str]:
    listing = subprocess.run(
        ["ps", "-eo", "pid,args", "--no-headers"], capture_output=True, text=True, check=True
    ).stdout
    processes = {}
    for line in listing.splitlines():
        pid, command = line.strip().split(None, 1)
        if "bin/mongod" in command or "kafka.Kafka" in command:
            processes[pid] = "mongod" if "mongod" in command else "kafka"
        elif " -m wsis_" in command and "wsis_devstack" not in command:
            processes[pid] = command.split(" -m ", 1)[1]
    return processes


def main(bootstrap: str, mongo_uri: str, workdir: Path) -> str:
    with running_stack(
        bootstrap, mongo_uri, workdir, split="submissions", api_processes=1, references={}
    ):
        time.sleep(SETTLE_S)
        processes = _stack_processes()
        before = {pid: cpu_seconds(pid) for pid in processes}
        time.sleep(SAMPLE_S)
        shares = {
            name: (cpu_seconds(pid) - before[pid]) / SAMPLE_S for pid, name in processes.items()
        }
    lines = [f"idle stack, share of one core over {SAMPLE_S} s (ceiling 100%):"]
    lines += [f"  {share:6.1%}  {name}" for name, share in sorted(shares.items())]
    lines.append(f"  {sum(shares.values()):6.1%}  in all")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        print(
            main(os.environ["WSIS_KAFKA_BOOTSTRAP"], os.environ["WSIS_MONGO_URI"], Path(directory))
        )
