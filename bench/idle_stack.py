"""What the whole stack costs with nothing to do: each process's share of a core, sampled from
/proc over 30 s after 20 s of settling (`WSIS_KAFKA_BOOTSTRAP=… WSIS_MONGO_URI=…
python -m bench.idle_stack`, or with neither set on throw-away ones). The broker and mongod
must run on this machine. The ceiling is one core: every figure is a fraction of it."""

from __future__ import annotations

import time
from pathlib import Path

from bench.stack import CpuAccount, run_alone, running_stack

SETTLE_S = 20
SAMPLE_S = 30


def main(bootstrap: str, mongo_uri: str, workdir: Path) -> str:
    with running_stack(
        bootstrap, mongo_uri, workdir, split="submissions", api_processes=1, references={}
    ):
        time.sleep(SETTLE_S)
        account = CpuAccount()
        account.start()
        time.sleep(SAMPLE_S)
        shares = {
            name: seconds / SAMPLE_S for name, seconds in account.spent().items() if seconds > 0
        }
    lines = [f"idle stack, share of one core over {SAMPLE_S} s (ceiling 100%):"]
    lines += [f"  {share:6.1%}  {name}" for name, share in sorted(shares.items())]
    lines.append(f"  {sum(shares.values()):6.1%}  in all")
    return "\n".join(lines)


if __name__ == "__main__":
    run_alone(main)
