#!/usr/bin/env python3
"""Samples what every thread of a process is doing, to tell what a stalled HTTP worker waits on.

Usage: threads.py PID SECONDS OUT     sample (SIGTERM stops it early)
       threads.py report OUT [MS]     the stalls in OUT: runs of MS (100) or more

Every 2 ms it reads each HTTP worker thread's (named actix-rt*) /proc/PID/task/TID/stat (state, user and system ticks, major
faults) and /proc/PID/task/TID/syscall (the system call it sleeps in, if any), and the machine's
/proc/stat (steal and iowait ticks). OUT gets one line per thread and sample, tab-separated:
seconds since the epoch, tid, thread name, state, syscall number or 'running', utime+stime
ticks, major faults; and per sample a line with tid 0 holding the machine's steal and iowait.

The report lists, per HTTP worker thread (named actix-rt*), every run of samples of at least MS
in which it did not get back to its event loop (epoll): the system call it sat in, or 'running'
with the CPU ticks it got meanwhile (none: runnable but not given a core), and the machine's
steal and iowait ticks over the run.
"""
import os
import signal
import sys
import time


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def main():
    pid, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    lines = []
    end = time.time() + seconds

    def stop(*_):
        nonlocal end
        end = 0

    # SIGTERM ends the sampling early; what was sampled is still written.
    signal.signal(signal.SIGTERM, stop)
    task_dir = f"/proc/{pid}/task"
    listed, tids = 0.0, []
    while time.time() < end:
        now = time.time()
        cpu = (read("/proc/stat") or "").split("\n", 1)[0].split()
        # cpu user nice system idle iowait irq softirq steal
        if len(cpu) > 8:
            lines.append(f"{now:.4f}\t0\tmachine\t-\t-\t{cpu[8]}\t{cpu[5]}")
        if now >= listed + 0.5:
            # The HTTP workers only (re-listed twice a second): fewer reads, less disturbance.
            try:
                tids = [tid for tid in os.listdir(task_dir) if (read(f"{task_dir}/{tid}/comm") or "").startswith("actix-rt")]
            except OSError:
                break
            listed = now
        for tid in tids:
            stat = read(f"{task_dir}/{tid}/stat")
            if not stat:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[0] is state (field 3); majflt is field 12, utime 14, stime 15.
            state, majflt, ticks = fields[0], fields[9], int(fields[11]) + int(fields[12])
            syscall = (read(f"{task_dir}/{tid}/syscall") or "?").split(" ", 1)[0].strip()
            lines.append(f"{now:.4f}\t{tid}\t{name}\t{state}\t{syscall}\t{ticks}\t{majflt}")
        time.sleep(0.002)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


EPOLL = {"232", "281", "441"}  # epoll_wait, epoll_pwait, epoll_pwait2 (x86_64)


def report(path, ms):
    machine = []
    threads = {}
    for line in open(path):
        t, tid, name, state, syscall, ticks, majflt = line.rstrip("\n").split("\t")
        if tid == "0":
            machine.append((float(t), int(ticks), int(majflt)))
        elif name.startswith("actix-rt"):
            threads.setdefault((tid, name), []).append((float(t), state, syscall, int(ticks), int(majflt)))

    def machine_at(t):
        return next((sample for sample in machine if sample[0] >= t), machine[-1])

    def category(sample):
        _, state, syscall, _, _ = sample
        if syscall in EPOLL:
            return "idle in epoll (its requests wait elsewhere)"
        if syscall == "running":
            return "running"
        return f"in syscall {syscall} (state {state})"

    print("| thread | from | ms | what it did | CPU ticks got | major faults | machine steal / iowait ticks |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    found = 0
    for (tid, name), samples in threads.items():
        i = 0
        while i < len(samples):
            j = i
            while j + 1 < len(samples) and category(samples[j + 1]) == category(samples[i]):
                j += 1
            first, last = samples[i], samples[j]
            wall = (last[0] - first[0]) * 1000
            got = last[3] - first[3]
            # Running is a stall only when the thread got under a fifth of the wall time (ticks are 10 ms).
            if wall >= ms and (category(first) != "running" or got * 10 < wall / 5):
                found += 1
                m0, m1 = machine_at(first[0]), machine_at(last[0])
                print(f"| {tid} {name} | {first[0]:.3f} | {wall:.0f} | {category(first)} | {got} | "
                      f"{last[4] - first[4]} | {m1[1] - m0[1]} / {m1[2] - m0[2]} |")
            i = j + 1
    if not found:
        print(f"| (no run of {ms:.0f} ms or more) | | | | | | |")


if __name__ == "__main__":
    if sys.argv[1] == "report":
        report(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 100)
    else:
        main()
