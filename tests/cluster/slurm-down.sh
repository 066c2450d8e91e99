#!/usr/bin/env bash
# Stop the one-node cluster that tests/cluster/slurm-up.sh started.
#
# Stops slurmd, slurmctld and munged by the pid files the daemons wrote (never by name, so
# nothing else on the machine is touched). With --purge it also removes the configuration,
# state and logs this script's partner wrote; the Debian packages stay installed.
#
# Usage: sudo tests/cluster/slurm-down.sh [--purge]
set -euo pipefail
# Daemons and runuser live in sbin, which some root shells leave off PATH.
export PATH="$PATH:/usr/sbin:/sbin"

CONF=/etc/slurm/slurm.conf
MARKER="# written by replikit tests/cluster/slurm-up.sh"
STATE_DIR=/var/lib/slurm-replikit
LOG_DIR=/var/log/slurm-replikit
RUN_DIR=/run/slurm-replikit

say() { printf 'slurm-down: %s\n' "$*"; }

stop_by_pidfile() {
    local name="$1" pidfile="$2" pid
    if [ ! -f "$pidfile" ]; then
        say "$name not running (no $pidfile)"
        return 0
    fi
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && { say "$name ignored TERM; killing"; kill -KILL "$pid"; }
    fi
    rm -f "$pidfile"
}

[ "$(id -u)" -eq 0 ] || { echo "slurm-down: needs root" >&2; exit 1; }

# Only a cluster this script's partner set up is ours to stop.
if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    say "$CONF was not written by slurm-up.sh; leaving this cluster alone"
    exit 0
fi

stop_by_pidfile slurmd "$RUN_DIR/slurmd.pid"
stop_by_pidfile slurmctld "$RUN_DIR/slurmctld.pid"
stop_by_pidfile munged /run/munge/munged.pid

if [ "${1:-}" = "--purge" ]; then
    say "removing $CONF, $STATE_DIR, $LOG_DIR"
    rm -rf "$CONF" "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"
fi
