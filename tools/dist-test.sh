#!/usr/bin/env bash
# The check `make dist` ends with. For the PHP the archive is for (the `php` on PATH, or $PHP):
#   target/dist/ holds the archive under the name PIE's pre-packaged-binary method derives for that
#   PHP (worked out here from the PHP itself, not from tools/dist.sh), the archive holds exactly
#   pantheon_secrets.so, and that .so loads into `php -n` and reports the version in the name;
#   composer.json (the extension, type php-ext) and stubs/composer.json (the stubs package) pass
#   `composer validate` (offline) and have the keys PIE and the static analysers rely on.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
fail() { echo "tools/dist-test.sh: FAILED: $*" >&2; exit 1; }
ok() { echo "dist-test: ok: $*"; }

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
# PIE's name: php_{ExtensionName}-{Version}_php{PhpVersion}-{Arch}-{OS}-{Libc}[-{Debug}]-{TSMode}.zip
expected=$("$PHP" -n -r '
  $arch = php_uname("m");
  $arch = ["aarch64" => "arm64", "amd64" => "x86_64"][$arch] ?? $arch;
  $libc = stripos((string) shell_exec("ldd --version 2>&1"), "musl") !== false ? "musl" : "glibc";
  echo "php_pantheon_secrets-", $argv[1], "_php", PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, "-", $arch,
    "-", strtolower(PHP_OS_FAMILY), "-", $libc, PHP_DEBUG ? "-debug" : "", PHP_ZTS ? "-zts" : "-nts", ".zip";
' "$version")
zip=target/dist/$expected
[ -f "$zip" ] || fail "no $zip (target/dist/ has: $(ls target/dist 2> /dev/null | tr '\n' ' '))"
entries=$(unzip -Z1 "$zip")
[ "$entries" = pantheon_secrets.so ] || fail "$zip holds '$entries', not just pantheon_secrets.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q "$zip" -d "$tmp"
loaded=$("$PHP" -n -d "extension=$tmp/pantheon_secrets.so" -r \
  'echo extension_loaded("pantheon_secrets") && function_exists("pantheon_get_secret") ? phpversion("pantheon_secrets") : "not loaded";' 2>&1)
[ "$loaded" = "$version" ] || fail "the .so in $zip: '$loaded' (wanted version $version)"
ok "$expected holds pantheon_secrets.so, which loads into $PHP -n as version $version"

command -v composer > /dev/null || fail "composer is missing (Debian's composer package)"
# Composer before 2.7 does not know the php-ext section and says so among its publish warnings;
# anything it calls an error fails. Composer's schema up to 2.8 (Debian 13's) lists only
# composer-default and pre-packaged-source as php-ext.download-url-method, while PIE 1.x reads
# pre-packaged-binary: when that enumeration is Composer's only complaint, the rest of the file is
# validated without the key, which the PIE checks below read themselves.
validate() { # json
  composer validate --no-check-publish --no-check-lock --no-interaction "$1" > "$tmp/validate.log" 2>&1
}
for json in composer.json stubs/composer.json; do
  validate "$json" && continue
  if grep -q 'php-ext.download-url-method : Does not have a value in the enumeration' "$tmp/validate.log" \
    && [ "$(grep -c '^ *- ' "$tmp/validate.log")" = 1 ]; then
    mkdir -p "$tmp/without-method"
    "$PHP" -n -r '$c = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
      unset($c["php-ext"]["download-url-method"]);
      file_put_contents($argv[2], json_encode($c, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));' \
      "$json" "$tmp/without-method/composer.json"
    if validate "$tmp/without-method/composer.json"; then
      ok "$json: this Composer's schema predates php-ext.download-url-method pre-packaged-binary (PIE reads it); the rest validates"
      continue
    fi
  fi
  cat "$tmp/validate.log" >&2
  fail "composer validate $json"
done
"$PHP" -n -r '
  $fail = function (string $what) { fwrite(STDERR, "tools/dist-test.sh: FAILED: $what\n"); exit(1); };
  $ext = json_decode(file_get_contents("composer.json"), true, 512, JSON_THROW_ON_ERROR);
  $ext["type"] === "php-ext" or $fail("composer.json: type is not php-ext");
  $p = $ext["php-ext"] ?? $fail("composer.json: no php-ext section");
  ($p["extension-name"] ?? null) === "pantheon_secrets" or $fail("composer.json: php-ext.extension-name");
  ($p["support-zts"] ?? null) === false or $fail("composer.json: php-ext.support-zts must be false (ZTS is untested)");
  ($p["support-nts"] ?? null) === true or $fail("composer.json: php-ext.support-nts must be true");
  in_array("pre-packaged-binary", (array) ($p["download-url-method"] ?? []), true)
    or $fail("composer.json: php-ext.download-url-method lacks pre-packaged-binary (there is no config.m4 to build)");
  is_array($p["configure-options"] ?? null) or $fail("composer.json: php-ext.configure-options");
  $stubs = json_decode(file_get_contents("stubs/composer.json"), true, 512, JSON_THROW_ON_ERROR);
  ($stubs["name"] ?? null) === "pantheon-secrets/stubs" or $fail("stubs/composer.json: name");
  // Loading the stubs next to the extension is a fatal "Cannot redeclare": they are for analysers only.
  isset($stubs["autoload"]) and $fail("stubs/composer.json must not autoload the stubs");
' || exit 1
"$PHP" -n -l stubs/pantheon_secrets.stub.php > /dev/null || fail "stubs/pantheon_secrets.stub.php does not parse"
ok "composer.json (php-ext) and stubs/composer.json validate and have the keys PIE and the analysers need"
