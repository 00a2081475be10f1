#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the integration tests:
#   .ci/slurm.sh start   install slurm-wlm and munge if absent, write slurm.conf
#                        for this host, start munged, slurmctld and slurmd
#   .ci/slurm.sh stop    stop what `start` started
# No accounting database: modelrun reads job states with scontrol.
set -euo pipefail
state=/tmp/modelrun-ci-slurm.pids
conf=/etc/slurm/slurm.conf

write_conf() {
  local node
  # slurmd -C reports this host as a node line: CPUs, sockets, cores, memory.
  node=$(slurmd -C | head -n 1)
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  cat >"$conf" <<CONF
ClusterName=modelrun-ci
SlurmctldHost=$(hostname)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# Keep ended jobs visible to scontrol for 5 minutes.
MinJobAge=300
KillWait=5
# No DefMemPerCPU and no oversubscription, as on many real clusters: a job
# that asks for no memory takes the whole node, and jobs queue for CPUs. The
# tests ask for what they need, so they pass here and on gentler clusters.
InactiveLimit=0
${node} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
}

start() {
  if sinfo >/dev/null 2>&1 && scontrol ping 2>/dev/null | grep -q UP; then
    echo "slurm: a controller is already up"
    return
  fi
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
  write_conf
  echo "slurm: starting munged, slurmctld and slurmd"
  mkdir -p /run/munge && chown munge:munge /run/munge
  pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
  : >"$state"
  slurmctld -c -i
  pgrep -x slurmctld >>"$state"
  slurmd -c
  pgrep -x slurmd >>"$state"
  pgrep -x munged >>"$state"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "slurm: $(sinfo -h -o '%P %D nodes %T') is up"
      return
    fi
    # A node that booted before the controller knew it may start out down.
    scontrol update nodename="$(hostname)" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm: the cluster did not come up within 60 s" >&2
  tail -n 30 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

stop() {
  [[ -f "$state" ]] || return 0
  echo "slurm: stopping the cluster"
  # Refuse nothing still queued: the tests should have left nothing behind.
  scancel --user=root >/dev/null 2>&1 || true
  while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$state"
  rm -f "$state"
}

"${1:?usage: .ci/slurm.sh start|stop}"
