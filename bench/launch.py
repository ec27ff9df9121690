"""Run one command; write its wall time, peak RSS and exit status to a file.

`python -S -I bench/launch.py RESULT COMMAND...`, started by bench/run.py. It imports nothing
(os and time come with the interpreter), so the command's peak RSS is its own: a child
inherits its parent's peak (wait4(2) reports the largest resident set the process ever had,
from before its exec too), and the runner, with its modules loaded, is three times the size of
`python -c pass`. Standard output goes to /dev/null; standard error stays the runner's.
"""

import os
import sys
import time

result, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.execvp(command[0], command)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(result, "w") as out:
    out.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")
