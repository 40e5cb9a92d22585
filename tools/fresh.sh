#!/usr/bin/env bash
# `make fresh`: the README's commands, run as a new user would run them, in a brand-new Debian root
# file system made with mmdebstrap (the minimal `apt` variant, plus what a stock machine with Rust
# has: ca-certificates, make, and libclang-cpp14 and llvm-14, which once fooled the libclang check).
# The host's Rust toolchain is bind-mounted in; the committed HEAD (not the working tree) is cloned
# in. Inside, as root: `make run`, `make test`, `make install`, `make test` again with the extension
# installed, `make uninstall`, and a check that `php -m` is as it was; then `make deb` and both
# packages installed with dpkg -i and checked (tools/package-check.sh: `php -m` lists the extension,
# the unit's command line run as its user answers /readyz). Fails when any step fails.
# Logs (and the packages the root needed) are copied to target/fresh/. The root is made anew on
# every run and always removed, also on failure or interruption: processes still running in it are
# ended first, and nothing is deleted while anything is mounted inside it.
# Environment: FRESH_SUITE (default bookworm), FRESH_MIRROR (default http://deb.debian.org/debian),
# FRESH_STEPS (the commands run inside, one a line; default as above), FRESH_OUT (where the logs
# go; default target/fresh). `make matrix` uses it for the Debian 13 root of PHP 8.4.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=tools/root.sh
. tools/root.sh
[ "$(id -u)" = 0 ] || { echo "make fresh runs as root (mmdebstrap, mount, chroot)" >&2; exit 1; }
suite=${FRESH_SUITE:-bookworm}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
cargo_home=$(realpath "${CARGO_HOME:-$HOME/.cargo}")
rustup_home=$(realpath "${RUSTUP_HOME:-$HOME/.rustup}")
include=ca-certificates,make,libclang-cpp14,llvm-14
case "$suite" in
  bookworm) ;;
  trixie) include=ca-certificates,make ;;
esac
out=${FRESH_OUT:-$repo/target/fresh}
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.txt
head=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "make fresh tests the committed HEAD ($head); uncommitted changes are not in it" >&2
fi
root_new fresh
started=$(date +%s)

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  cp "$root"/root/fresh-*.log "$root"/root/fresh-*.txt "$out/" 2> /dev/null
  # What a step built to hand out (make dist's PIE archive), if any.
  cp "$root"/root/pantheon-secrets/target/dist/*.zip "$out/" 2> /dev/null
  root_remove "make fresh" || exit 1
  echo "== fresh: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s in all; logs in ${out#"$repo"/}/"
  # The last line is the count of the last test run inside; a run that failed before any test says so.
  last=$(cat "$out"/fresh-*.log 2> /dev/null | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -n "$last" ] && { [ "$rc" -eq 0 ] || ! [[ "$last" =~ \ 0\ failed ]]; }; then
    echo "$last"
  else
    echo "0 passed, 1 failed (make fresh failed before the tests could report)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== fresh: a new Debian $suite root in $root"
root_debootstrap "$suite" "$mirror" "$include" "$out/mmdebstrap.log" || exit 1
chroot "$root" dpkg-query -W -f='${Package}\n' | sort > "$root/root/fresh-packages-before.txt"
root_mount
root_bind "$cargo_home"
root_bind "$rustup_home"

git clone -q --no-local "$repo" "$root/root/pantheon-secrets"
git -C "$root/root/pantheon-secrets" checkout -q --detach "$head"
echo "== fresh: cloned $head"

# One step a line; each must pass. Its output is kept in target/fresh/fresh-N.log.
steps=${FRESH_STEPS:-'make run
make test
php -m > /root/fresh-modules-before.txt && make install && php -m > /root/fresh-modules-installed.txt && grep -qx pantheon_secrets /root/fresh-modules-installed.txt
make test
make uninstall && php -m > /root/fresh-modules-after.txt && diff /root/fresh-modules-before.txt /root/fresh-modules-after.txt
make deb && tools/package-check.sh'}
inside='set -euo pipefail
cd /root/pantheon-secrets
n=0
while IFS= read -r step <&3; do
  [ -n "$step" ] || continue
  n=$((n + 1)) t=$(date +%s)
  echo "== fresh: step $n: $step"
  echo "$n $step" >> /root/fresh-steps.txt
  if eval "$step" 2>&1 | tee "/root/fresh-$n.log"; then
    echo "== fresh: step $n passed in $(( $(date +%s) - t )) s: $step"
  else
    echo "== fresh: step $n FAILED after $(( $(date +%s) - t )) s: $step"
    exit 1
  fi
done 3<<< "$FRESH_STEPS_INSIDE"
dpkg-query -W -f="\${Package}\n" | sort > /root/fresh-packages-after.txt
comm -13 /root/fresh-packages-before.txt /root/fresh-packages-after.txt > /root/fresh-packages-added.txt
echo "== fresh: the root gained $(wc -l < /root/fresh-packages-added.txt) packages (target/fresh/fresh-packages-added.txt)"'
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" \
  PATH="$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" FRESH_STEPS_INSIDE="$steps" \
  /bin/bash -c "$inside" < /dev/null
