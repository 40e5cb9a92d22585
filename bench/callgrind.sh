# Sourced by the instruction-count benchmarks: `ir COMMAND…` prints how many instructions the
# command ran under valgrind's callgrind (user space, every thread and library). Counts do not
# move with the machine's load, so two of them can be compared where wall-clock times cannot.
# With IR_CLEAN_ENV=1 the command runs with PATH alone in its environment, as PHP-FPM's workers do by
# default (clear_env): the extension looks variables up in it at each request's first call.
# `per_unit A_COUNT B_COUNT UNITS` is (B - A) / UNITS: two runs that differ only in how many
# times the measured thing is done cancel out process start-up, module start-up and the first fetch.

command -v valgrind > /dev/null || { echo "valgrind is not installed (tools/deps.sh test installs it)" >&2; exit 1; }

ir() { # command…
  local log clean=()
  log=$(mktemp)
  [ -z "${IR_CLEAN_ENV:-}" ] || clean=(env -i "PATH=$PATH")
  if ! "${clean[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$log" "$@" > /dev/null 2>&1; then
    echo "failed under callgrind: $*" >&2; cat "$log" >&2; rm -f "$log"; return 1
  fi
  awk '/Collected :/ { print $NF }' "$log"
  rm -f "$log"
}

per_unit() { # a b units
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'
}
