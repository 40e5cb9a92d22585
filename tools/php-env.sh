# Sourced by the scripts that load the freshly built extension with `php -d extension=…` (make run,
# make test, make bench). Where the extension is also installed (make install), PHP would load it
# twice ("Module already loaded"); these scripts want the build under test and nothing else.
# `php_without_installed DIR` fills DIR with links to the ini files PHP scans, except those that load
# pantheon_secrets, and exports PHP_INI_SCAN_DIR=DIR, so every PHP started from then on (CLI,
# run-tests.php's children, php-cgi) loads what the machine configures minus the installed copy.

php_without_installed() { # dir
  local dir=$1 php=${PHP:-php} scan file one dirs
  mkdir -p "$dir"
  scan=$(PHP_INI_SCAN_DIR= "$php" -n -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')
  if [ -n "${PHP_INI_SCAN_DIR:-}" ]; then scan=$PHP_INI_SCAN_DIR; fi
  IFS=: read -r -a dirs <<< "$scan"
  for one in "${dirs[@]}"; do
    for file in "$one"/*.ini; do
      [ -e "$file" ] || continue
      grep -Eq '^[[:space:]]*extension[[:space:]]*=[[:space:]]*"?([^"]*/)?pantheon_secrets(\.so)?"?[[:space:]]*$' "$file" \
        || ln -sf "$file" "$dir/"
    done
  done
  export PHP_INI_SCAN_DIR=$dir
  if grep -qx pantheon_secrets <<< "$("$php" -m 2> /dev/null)"; then
    echo "php loads pantheon_secrets from its main php.ini ($("$php" -r 'echo php_ini_loaded_file();')):" \
      "the tests need to load the build under test instead; move that line to a file in $scan" >&2
    return 1
  fi
}
