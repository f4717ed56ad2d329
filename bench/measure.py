"""Runs a command and prints its wall time, CPU time and peak RSS as JSON.

    python bench/measure.py -- COMMAND [ARGS...]

A separate small launcher, because a child forked from a big process (the bench, after its
write scenario) starts with that process's pages, and the kernel counts them in the child's
peak RSS even after it execs.
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    print(json.dumps({"wall_s": time.perf_counter() - started,
                      "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_rss_mb": usage.ru_maxrss / 1024,
                      "exit": os.waitstatus_to_exitcode(status)}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
