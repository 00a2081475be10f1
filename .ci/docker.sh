#!/usr/bin/env bash
# Makes a Docker engine available for the integration tests:
#   .ci/docker.sh start   install docker.io if it is absent, start dockerd if it is not running
#   .ci/docker.sh stop    stop the dockerd that `start` started, if any
set -euo pipefail
state=/tmp/modelrun-ci-dockerd.pid

start() {
  if docker version >/dev/null 2>&1; then
    echo "docker: an engine is already running"
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker: installing docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  echo "docker: starting dockerd"
  dockerd >/tmp/modelrun-ci-dockerd.log 2>&1 &
  echo $! >"$state"
  for _ in $(seq 1 60); do
    if docker version >/dev/null 2>&1; then
      echo "docker: engine $(docker version --format '{{.Server.Version}}') is up"
      return
    fi
    sleep 1
  done
  echo "docker: dockerd did not come up within 60 s; its log:" >&2
  tail -n 50 /tmp/modelrun-ci-dockerd.log >&2
  exit 1
}

stop() {
  [[ -f "$state" ]] || return 0
  local pid
  pid=$(cat "$state")
  rm -f "$state"
  echo "docker: stopping dockerd ($pid)"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  kill -9 "$pid" 2>/dev/null || true
}

"${1:?usage: .ci/docker.sh start|stop}"
