#!/usr/bin/env bash
# The runner's self-test (part of `make test`): tools/test.sh must not report a pass it did not see.
# Each case breaks a throwaway copy of the tree on purpose — a Rust test that fails, a Rust test that
# does not compile, a .phpt that fails — runs that copy's runner on the broken suite, and checks that
# the runner exits non-zero and counts a failure.
# usage: tools/test-selftest.sh EXTENSION.so SERVER   (prints `ok - …` / `not ok - …` lines)
set -uo pipefail
cd "$(dirname "$0")/.."
EXT=$1 SERVER=$2
repo=$PWD
copy=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-selftest.XXXXXX")
trap 'rm -rf "$copy"' EXIT
failures=0

fresh_copy() {
  rm -rf "$copy/tree"
  mkdir "$copy/tree"
  tar -C "$repo" --exclude=./target --exclude=./.git -cf - . | tar -C "$copy/tree" -xf -
}

# Runs the copy's runner on SUITES with extra environment; checks a non-zero exit and a non-zero
# failed count on its last line.
expect_failure() { # description suites [VAR=value…]
  local what=$1 suites=$2 out last
  shift 2
  out=$copy/$RANDOM.log
  # The copy shares this tree's cargo target, so only the broken crate is compiled again.
  env "$@" SUITES="$suites" EXT="$EXT" SERVER="$SERVER" CARGO_TARGET_DIR="$repo/target" \
    "$copy/tree/tools/test.sh" > "$out" 2>&1
  local rc=$?
  last=$(tail -n 1 "$out")
  if [ "$rc" -ne 0 ] && [[ "$last" =~ ^[0-9]+\ passed,\ ([1-9][0-9]*)\ failed ]]; then
    echo "ok - $what: the runner exits $rc and says \"$last\""
  else
    echo "not ok - $what: the runner exits $rc and says \"$last\""
    tail -n 20 "$out" | sed 's/^/#   /'
    failures=$((failures + 1))
  fi
}

fresh_copy
cat >> "$copy/tree/crates/core/src/lib.rs" <<'RUST'

#[cfg(test)]
mod runner_selftest {
    #[test]
    fn runner_selftest_deliberately_fails() {
        assert_eq!(1 + 1, 3, "deliberately broken by tools/test-selftest.sh");
    }
}
RUST
expect_failure "a failing Rust test" cargo CARGO_TEST_ARGS="-p secrets-core"

fresh_copy
cat >> "$copy/tree/crates/core/src/lib.rs" <<'RUST'

#[cfg(test)]
mod runner_selftest {
    #[test]
    fn runner_selftest_does_not_compile() {
        let broken: u32 = "deliberately broken by tools/test-selftest.sh";
    }
}
RUST
expect_failure "a Rust test that does not compile" cargo CARGO_TEST_ARGS="-p secrets-core"

fresh_copy
cat > "$copy/tree/php-tests/runner_selftest_fails.phpt" <<'PHPT'
--TEST--
runner self-test: a .phpt whose output differs from its expectation
--FILE--
<?php
echo "actual\n";
?>
--EXPECT--
expected
PHPT
expect_failure "a failing .phpt" phpt PHPT="$copy/tree/php-tests/runner_selftest_fails.phpt"

fresh_copy
expect_failure "a suite that runs no test" phpt PHPT="$copy/tree/php-tests/no-such-test.phpt"

[ "$failures" -eq 0 ]
