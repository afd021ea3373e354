#!/usr/bin/env bash
# A one-node Slurm (slurmctld + slurmd + munge) for the cluster integration
# test. Idempotent: `start` configures what is missing and starts the daemons
# that are not running; `stop` stops the ones it started. Needs root and
# Debian's slurm-wlm + munge (.ci/run installs them when missing).
#   scripts/slurm-test-setup.sh start|stop|status
set -euo pipefail
action="${1:-start}"
host="$(hostname -s)"
conf=/etc/slurm/slurm.conf
marker='# dlab-slurm-test'
state=/var/lib/dlab-slurm-test

need() { command -v "$1" >/dev/null 2>&1 || { echo "slurm-test-setup: $1 is not installed (apt-get install slurm-wlm munge)" >&2; exit 3; }; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

configure() {
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/log/munge /var/lib/munge "$state"
  if [ -f "$conf" ] && ! grep -q "^$marker" "$conf"; then
    echo "slurm-test-setup: $conf exists and is not ours; using it as it is" >&2
    return
  fi
  local mem
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
  local want
  want=$(cat <<CONF
$marker (written by scripts/slurm-test-setup.sh)
ClusterName=dlabtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
KillWait=15
SlurmdTimeout=300
NodeName=$host CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)
  if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then printf '%s\n' "$want" > "$conf"; fi
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chmod 0400 /etc/munge/munge.key
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
}

start() {
  need slurmctld; need slurmd; need munged; need sbatch
  configure
  if ! munge -n >/dev/null 2>&1; then
    if id munge >/dev/null 2>&1; then
      su -s /bin/sh munge -c 'munged' 2>/dev/null || munged --force
    else
      munged --force
    fi
    touch "$state/munged"
  fi
  if ! alive /run/slurmctld.pid; then slurmctld; touch "$state/slurmctld"; fi
  if ! alive /run/slurmd.pid; then slurmd; touch "$state/slurmd"; fi
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then echo "slurm-test-setup: up ($host, partition debug)"; return 0; fi
    # a node left down/drained by an earlier run comes back
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm-test-setup: the node did not come up" >&2
  sinfo -N >&2 || true
  tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

stop() {
  if [ -f "$state/slurmd" ] && alive /run/slurmd.pid; then kill "$(cat /run/slurmd.pid)" || true; fi
  if [ -f "$state/slurmctld" ] && alive /run/slurmctld.pid; then kill "$(cat /run/slurmctld.pid)" || true; fi
  if [ -f "$state/munged" ] && [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
  rm -f "$state/slurmd" "$state/slurmctld" "$state/munged"
  echo "slurm-test-setup: stopped"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) sinfo -N 2>&1 || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
