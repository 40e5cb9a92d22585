#!/usr/bin/env bash
# The web path in instructions: one PHP page that reads 10 (and 100) secrets, once with the
# extension and once with the values hard-coded as constants, run REQUESTS times in one php-cgi
# process (`-T`: a whole request, start-up to shutdown, each time; opcache on, as under PHP-FPM)
# under callgrind, in an environment as small as PHP-FPM's workers get. Prints JSON: instructions per request of each page, the extension's extra
# instructions per request, and their share of the request.
# usage: bench/page-instructions.sh EXTENSION.so [requests]   (BENCH_SMOKE=1: tiny)
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1 REQUESTS=${2:-200} PHP=${PHP:-php}
COUNTS=(10 100)
if [ -n "${BENCH_SMOKE:-}" ]; then REQUESTS=4 COUNTS=(10); fi
. bench/callgrind.sh
minor=$("$PHP" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
CGI=${PHP_CGI:-$(command -v "php-cgi$minor" || command -v php-cgi || true)}
[ -n "$CGI" ] || { echo "php-cgi is not installed (tools/deps.sh test installs php$minor-cgi)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

result='{}'
for n in "${COUNTS[@]}"; do
  "$PHP" -n -r '[, $n, $dir] = $argv; $s = []; $c = "<?php\n";
    for ($i = 0; $i < $n; $i++) { $v = str_repeat(chr(97 + $i % 26), 32); $s["SECRET_$i"] = ["Type" => "runtime", "Value" => $v, "Scopes" => ["web"]]; $c .= "const SECRET_$i = \"$v\";\n"; }
    file_put_contents("$dir/secrets.json", json_encode(["SiteID" => "bench", "Secrets" => $s]));
    $c .= "\$out = \"\";\n"; for ($i = 0; $i < $n; $i++) { $c .= "\$out .= SECRET_$i" . "[0];\n"; } $c .= "echo \$out;\n";
    file_put_contents("$dir/constants.php", $c);
    $e = "<?php\n\$out = \"\";\n"; for ($i = 0; $i < $n; $i++) { $e .= "\$out .= pantheon_get_secret(\"SECRET_$i\")[0];\n"; }
    file_put_contents("$dir/extension.php", "$e" . "echo \$out;\n");' "$n" "$work"
  cgi=("$CGI" -n -q -d zend_extension=opcache -d opcache.enable=1 -d opcache.validate_timestamps=0 -d opcache.file_update_protection=0
    -d "extension=$EXT" -d "pantheon_secrets.backend=file://$work/secrets.json")
  want=$("$PHP" -n -r 'for ($i = 0; $i < $argv[1]; $i++) echo chr(97 + $i % 26);' "$n")
  for page in extension constants; do
    got=$("${cgi[@]}" -T 1 "$work/$page.php" 2> /dev/null)
    [ "$got" = "$want" ] || { echo "the $page page answers '$got', not '$want'" >&2; exit 1; }
    a=$(IR_CLEAN_ENV=1 ir "${cgi[@]}" -T "$REQUESTS" "$work/$page.php")
    b=$(IR_CLEAN_ENV=1 ir "${cgi[@]}" -T $((2 * REQUESTS)) "$work/$page.php")
    per_request=$(per_unit "$a" "$b" "$REQUESTS")
    result=$("$PHP" -n -r '$r = json_decode($argv[1], true); $r[$argv[2]][$argv[3]] = (float) $argv[4]; echo json_encode($r);' "$result" "$n" "$page" "$per_request")
  done
done
"$PHP" -n -r '$r = json_decode($argv[1], true); $out = ["requests" => (int) $argv[2]];
  foreach ($r as $n => $p) {
      $extra = $p["extension"] - $p["constants"];
      $out["secrets"][$n] = ["extension" => $p["extension"], "constants" => $p["constants"], "extra" => $extra, "share" => $extra / $p["extension"]];
  }
  echo json_encode($out, JSON_PRETTY_PRINT), "\n";' "$result" "$REQUESTS"
