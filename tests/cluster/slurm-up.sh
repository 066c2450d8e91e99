#!/usr/bin/env bash
# Bring up a one-node SLURM cluster on this machine (127.0.0.1), for the integration test
# tests/test_slurm.py and for trying profiles/slurm/ without a real cluster.
#
# Idempotent: installs Debian's slurmctld, slurmd, slurm-client and munge when missing,
# writes /etc/slurm/slurm.conf (only if absent or written by this script earlier), starts
# munged, slurmctld and slurmd directly (no systemd needed: containers often lack it), and
# waits until `sinfo` shows the node ready. Needs root.
#
# Settings avoid cgroups (proctrack/linuxproc, task/none), which containers rarely
# delegate. Accounting is off, so `sacct` has nothing to say; MinJobAge keeps finished
# jobs visible to `squeue`/`scontrol` for long enough that snakemake-executor-plugin-slurm
# can read their final state (profiles/slurm/ selects its squeue status command).
#
# Environment:
#   REPLIKIT_SLURM_PARTITION   partition name (default: replikit)
#   REPLIKIT_SLURM_WAIT        seconds to wait for the node (default: 60)
#
# Usage: sudo tests/cluster/slurm-up.sh        (tear down: tests/cluster/slurm-down.sh)
set -euo pipefail
# Daemons and runuser live in sbin, which some root shells leave off PATH.
export PATH="$PATH:/usr/sbin:/sbin"

PARTITION="${REPLIKIT_SLURM_PARTITION:-replikit}"
WAIT_SECONDS="${REPLIKIT_SLURM_WAIT:-60}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by replikit tests/cluster/slurm-up.sh"
STATE_DIR=/var/lib/slurm-replikit
LOG_DIR=/var/log/slurm-replikit
RUN_DIR=/run/slurm-replikit

say() { printf 'slurm-up: %s\n' "$*"; }
die() { printf 'slurm-up: error: %s\n' "$*" >&2; exit 1; }
# Exit 77 means "a cluster cannot be set up here" (tests skip), as opposed to a failure.
cannot() { printf 'slurm-up: cannot set up: %s\n' "$*" >&2; exit 77; }

require_root() {
    [ "$(id -u)" -eq 0 ] || cannot "needs root (it installs packages and starts daemons); run it with sudo"
}

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    command -v munged >/dev/null || missing+=(munge)
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || cannot "missing ${missing[*]} and no apt-get to install them"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d stops the packages' own service start-up; this script starts the daemons.
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
        || cannot "apt-get could not install ${missing[*]}"
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        say "munged already running"
        return 0
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    die "munged did not start; see /var/log/munge/munged.log"
}

write_config() {
    if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        say "keeping the existing $CONF (not written by this script)"
        return 0
    fi
    local node_line host
    host="$(hostname -s)"
    # slurmd -C reports this machine's real CPUs, layout and memory in slurm.conf syntax.
    node_line="$(slurmd -C | head -n 1)"
    [[ "$node_line" == NodeName=* ]] || die "slurmd -C gave no node line: $node_line"
    mkdir -p /etc/slurm
    install -d -o slurm -g slurm "$STATE_DIR/ctld" "$LOG_DIR" "$RUN_DIR"
    install -d "$STATE_DIR/d"
    cat >"$CONF.tmp" <<EOF
$MARKER
# A one-node cluster on 127.0.0.1 for tests; see docs/cluster.md for a real cluster.
ClusterName=replikit
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# No cgroups: containers rarely delegate them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
# Cores and memory are consumable, so mem_mb and cpus_per_task requests are enforced.
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
# Keep finished jobs visible to squeue/scontrol for 10 minutes (the status poller reads them).
MinJobAge=600
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
${node_line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
    say "wrote $CONF for node ${host}"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_daemons() {
    if running "$RUN_DIR/slurmctld.pid"; then
        say "slurmctld already running"
    else
        say "starting slurmctld"
        /usr/sbin/slurmctld -i
    fi
    if running "$RUN_DIR/slurmd.pid"; then
        say "slurmd already running"
    else
        say "starting slurmd"
        /usr/sbin/slurmd
    fi
}

wait_for_node() {
    local state=""
    for _ in $(seq "$WAIT_SECONDS"); do
        state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)"
        case "$state" in
            idle|mixed|allocated|completing)
                say "node $(hostname -s) is $state"
                sinfo
                return 0 ;;
            down*|drain*)
                # ReturnToService=2 returns it once slurmd registers; nudge it anyway.
                scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
        esac
        sleep 1
    done
    die "node not ready after ${WAIT_SECONDS}s (state: ${state:-unknown}); see $LOG_DIR/"
}

require_root
install_packages
start_munge
write_config
start_daemons
wait_for_node
