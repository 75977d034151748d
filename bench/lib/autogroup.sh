# Sourced by the bench scripts: the kernel's autogroup scheduling off for the run.
#
# With sched_autogroup on (this machine's kernel default), the CPU scheduler shares the cores
# equally between sessions first and between their threads second. The service and the load
# generator started by one script share one session, PostgreSQL's backends another, and under
# load the service's HTTP workers sat runnable without a core for 100-400 ms at a time.
# bench/tail measured it, two HTTP workers, GET one record at 8 connections, three rounds each:
# with autogroup on, wrk's p99 was 192-1,257 ms and 1-5 requests per round took over 100 ms;
# with it off, wrk's p99 was 2.8-3.0 ms, its max 15-23 ms, and no request took 100 ms. A server
# runs its daemons each in a session (or cgroup) of its own, so the bench measures with it off.
#
# autogroup_off turns it off when it can (root) and says so; autogroup_restore puts the
# machine's setting back (call it from the script's EXIT trap). BENCH_AUTOGROUP=keep leaves it.
autogroup_file=/proc/sys/kernel/sched_autogroup_enabled
autogroup_before=
autogroup_off() {
    [ "${BENCH_AUTOGROUP:-off}" = keep ] && return 0
    [ -w "$autogroup_file" ] || return 0
    autogroup_before=$(cat "$autogroup_file")
    if [ "$autogroup_before" = 0 ]; then
        autogroup_before=
        return 0
    fi
    echo 0 >"$autogroup_file"
    echo "bench: sched_autogroup off for this run (it was $autogroup_before; BENCH_AUTOGROUP=keep leaves it)" >&2
}
autogroup_restore() {
    if [ -n "$autogroup_before" ]; then
        echo "$autogroup_before" >"$autogroup_file" 2>/dev/null || true
        autogroup_before=
    fi
}
# The setting the run measures under: 0, 1, or n/a (a kernel without autogroup).
autogroup_setting() { cat "$autogroup_file" 2>/dev/null || echo n/a; }
