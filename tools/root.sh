# shellcheck shell=bash
# A brand-new Debian root file system for a check that must start from nothing: sourced by
# tools/fresh.sh (`make fresh`) and tools/package-test.sh (`make package-test`), run as root.
#   root_new NAME                       makes the empty directory and sets $root to it
#   root_debootstrap SUITE MIRROR INCLUDE LOG
#                                       fills it with mmdebstrap (the minimal `apt` variant, plus the
#                                       comma-separated INCLUDE), from SUITE, its updates and security;
#                                       the output goes to LOG (its tail to stderr on failure)
#   root_mount                          the host's resolv.conf and hosts; /proc, /dev, a fresh /dev/shm
#   root_bind DIR                       a host directory, bound at the same path inside
#   root_remove WHO                     ends every process whose root is inside (TERM, then KILL),
#                                       unmounts everything under it, and deletes it; when something
#                                       stays mounted it deletes nothing, says so (as WHO) and fails
# The caller calls root_remove from its EXIT trap, so the root goes also on failure or interruption.

root=

root_new() { # name
  root=$(mktemp -d "/var/tmp/pantheon-secrets-$1.XXXXXX")
}

root_debootstrap() { # suite mirror include log
  local suite=$1 mirror=$2 include=$3 log=$4
  local security=${mirror%/debian}/debian-security
  mmdebstrap --variant=apt --include="$include" "$suite" "$root" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main" \
    < /dev/null > "$log" 2>&1 || { tail -n 30 "$log" >&2; return 1; }
}

root_mount() {
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/hosts "$root/etc/hosts"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
}

root_bind() { # dir
  mkdir -p "$root$1"
  mount --bind "$1" "$root$1"
}

root_mounts_inside() { awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts; }

root_processes_inside() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2> /dev/null)" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}

root_remove() { # who
  local pids m signal
  [ -n "$root" ] && [ -d "$root" ] || return 0
  for signal in TERM KILL; do
    pids=$(root_processes_inside)
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -s "$signal" $pids 2> /dev/null
    sleep 2
  done
  for m in $(root_mounts_inside | sort -r); do
    umount "$m" 2> /dev/null || umount -l "$m"
  done
  if [ -n "$(root_mounts_inside)" ]; then
    echo "$1: still mounted under $root, so it is left in place:" >&2
    root_mounts_inside >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
}
