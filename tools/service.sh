#!/usr/bin/env bash
# The one way the scripts start the secrets service on loopback (make run, make e2e, the Apache
# check, the service's demo, the Terminus plugin's PHPUnit suite): executed, or sourced by a bash
# script that wants the service as its own child (then `wait` works on it).
#
#   tools/service.sh start [--data-dir DATA] [--port PORT] DIR BINARY [SERVE_OPTION…]
#   tools/service.sh stop DIR
#   (sourced: service_start and service_stop take the same arguments)
#
# start: DIR (made 0700 when missing) holds what the helper makes. The data directory is DATA, else
# DIR/data, made with `BINARY init` when it has no ca.pem. `serve` listens on 127.0.0.1:PORT, else on
# the port of the previous start in DIR (a restart keeps the URL clients were given), else on a free
# one; its standard output and log go to DIR/service.log. Ready means the line `serve` prints with
# the real address (`listening on https://ADDR`) has come and GET /readyz answers 200 over TLS
# verified with the data directory's ca.pem; then DIR/service.env (0600) is written, one
# `KEY=value` line each (values shell-quoted), for `. DIR/service.env` or any line reader:
#   PANTHEON_SECRETS_URL, PANTHEON_SECRETS_CA_FILE   as the CLI's Terminus commands read them
#   PANTHEON_SECRETS_TOKEN                           the admin token, when this helper ran init
#   SERVICE_PID, SERVICE_PORT, SERVICE_DATA_DIR, SERVICE_LOG
# It fails (non-zero, the log on stderr) when the service exits or is not ready within 30 s.
# stop: SIGTERM to SERVICE_PID, then waits until it is gone (SIGKILL after 20 s, beyond serve's
# default drain time); service.env stays, with SERVICE_PID empty, for a restart.

service_start() {
  local data= port= dir bin out token= pid url= line status= i
  while [ $# -gt 0 ]; do
    case $1 in
      --data-dir) data=$2; shift 2 ;;
      --port) port=$2; shift 2 ;;
      *) break ;;
    esac
  done
  [ $# -ge 2 ] || { echo "usage: service.sh start [--data-dir DATA] [--port PORT] DIR BINARY [SERVE_OPTION…]" >&2; return 2; }
  dir=$1 bin=$2
  shift 2
  mkdir -p "$dir" && chmod 0700 "$dir" || return 1
  data=${data:-$dir/data}
  if [ -f "$dir/service.env" ]; then
    port=${port:-$(_service_field "$dir" SERVICE_PORT)}
    token=$(_service_field "$dir" PANTHEON_SECRETS_TOKEN)
  fi
  if [ ! -f "$data/ca.pem" ]; then
    # `init` prints the admin token once; it stays in this process and in service.env (0600).
    token=$("$bin" init --data-dir "$data") || { echo "service.sh: $bin init --data-dir $data failed" >&2; return 1; }
  fi
  out=$dir/service.log
  : > "$out"
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:${port:-0}" "$@" < /dev/null >> "$out" 2>&1 &
  pid=$!
  for i in $(seq 300); do
    if [ -z "$url" ]; then
      line=$(grep -m1 '^listening on https://' "$out")
      url=${line#listening on }
    fi
    if [ -n "$url" ]; then
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$data/ca.pem" "$url/readyz")
      [ "$status" = 200 ] && break
    fi
    kill -0 "$pid" 2> /dev/null || { echo "service.sh: the service exited:" >&2; cat "$out" >&2; return 1; }
    sleep 0.1
  done
  if [ "$status" != 200 ]; then
    echo "service.sh: the service was not ready within 30 s (${url:-no address printed}; /readyz: ${status:-no answer}):" >&2
    cat "$out" >&2
    kill "$pid" 2> /dev/null
    return 1
  fi
  _service_write "$dir" "$url" "$data" "$token" "$pid" "$out"
}

service_stop() { # dir
  local dir=${1:?usage: service.sh stop DIR} pid i
  [ -f "$dir/service.env" ] || return 0
  pid=$(_service_field "$dir" SERVICE_PID)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2> /dev/null
    for i in $(seq 200); do
      _service_gone "$pid" && break
      sleep 0.1
    done
    _service_gone "$pid" || kill -KILL "$pid" 2> /dev/null
    # Reaped here when it is this shell's child (sourced), else by whoever adopted it.
    wait "$pid" 2> /dev/null
  fi
  _service_write "$dir" "$(_service_field "$dir" PANTHEON_SECRETS_URL)" "$(_service_field "$dir" SERVICE_DATA_DIR)" \
    "$(_service_field "$dir" PANTHEON_SECRETS_TOKEN)" "" "$(_service_field "$dir" SERVICE_LOG)"
}

# One value of DIR/service.env, read in a subshell so that nothing leaks into the caller.
_service_field() { # dir key
  (. "$1/service.env" && eval "printf '%s' \"\${$2:-}\"")
}

# Gone, or a zombie waiting for its parent: either way it serves nothing.
_service_gone() { # pid
  local state
  state=$(ps -o stat= -p "$1" 2> /dev/null) || return 0
  [[ -z "$state" || "$state" == Z* ]]
}

_service_write() { # dir url data token pid log
  local url=$2
  (
    umask 077
    line() { if [ -n "$2" ]; then printf '%s=%q\n' "$1" "$2"; else printf '%s=\n' "$1"; fi; }
    {
      echo "# Written by tools/service.sh: the secrets service started in this directory."
      line PANTHEON_SECRETS_URL "$url"
      line PANTHEON_SECRETS_CA_FILE "$3/ca.pem"
      [ -z "$4" ] || line PANTHEON_SECRETS_TOKEN "$4"
      line SERVICE_PID "$5"
      line SERVICE_PORT "${url##*:}"
      line SERVICE_DATA_DIR "$3"
      line SERVICE_LOG "$6"
    } > "$1/service.env.tmp" && mv -f "$1/service.env.tmp" "$1/service.env"
  )
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case ${1:-} in
    start) shift; service_start "$@" ;;
    stop) shift; service_stop "$@" ;;
    *) echo "usage: $0 start [--data-dir DATA] [--port PORT] DIR BINARY [SERVE_OPTION…] | stop DIR" >&2; exit 2 ;;
  esac
fi
