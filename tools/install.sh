#!/usr/bin/env bash
# `make install` / `make uninstall`: the extension goes into the extension directory of the PHP it
# was built against (the `php` on PATH, or $PHP), and is enabled for that PHP version only, with
# Debian's phpenmod (every SAPI of that version: CLI, FPM, Apache). Other PHP versions on the
# machine are left alone. Uninstall removes exactly what install added.
# usage: tools/install.sh install EXTENSION.so | tools/install.sh uninstall
set -euo pipefail
PHP=${PHP:-php}
action=${1:-}
read -r version extdir < <("$PHP" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, " ", PHP_EXTENSION_DIR, "\n";')
mods=/etc/php/$version/mods-available
ini=$mods/pantheon_secrets.ini
so=$extdir/pantheon_secrets.so

case "$action" in
  install)
    ext=${2:?usage: tools/install.sh install EXTENSION.so}
    built_for=$("$PHP" -n -d "extension=$ext" -r 'extension_loaded("pantheon_secrets") or exit(1);
      echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;' 2>&1) || {
      echo "$ext does not load into $PHP ($version): $built_for" >&2
      exit 1
    }
    install -D -m 0644 "$ext" "$so"
    echo "installed $so (PHP $built_for)"
    if [ -d "$mods" ] && command -v phpenmod > /dev/null; then
      cat > "$ini" <<'INI'
; pantheon_secrets: pantheon_get_secret() for PHP. Settings: see the project's README.
; priority=20
extension=pantheon_secrets.so
;pantheon_secrets.backend = https://secrets.internal:8443
;pantheon_secrets.client_cert = /etc/pantheon/binding.pem
;pantheon_secrets.ca_file = /etc/pantheon/secrets-ca.pem
;pantheon_secrets.ttl = 900
INI
      phpenmod -v "$version" pantheon_secrets
      echo "enabled for PHP $version ($ini, phpenmod -v $version pantheon_secrets)"
    else
      echo "no $mods here: add 'extension=pantheon_secrets.so' to the php.ini of PHP $version"
    fi
    ;;
  uninstall)
    if [ -f "$ini" ] && command -v phpdismod > /dev/null; then
      phpdismod -v "$version" pantheon_secrets
      rm -f "$ini"
      # phpdismod records the module as disabled by the administrator, and a package's postinst
      # honours that (it would leave the packaged extension disabled); undoing make install is no
      # such veto, so its records go, for every SAPI (phpdismod -p forgets only one SAPI's).
      state=/var/lib/php/modules/$version
      rm -f "$state"/*/enabled_by_admin/pantheon_secrets "$state"/*/disabled_by_admin/pantheon_secrets \
        "$state"/*/enabled_by_maint/pantheon_secrets "$state"/*/disabled_by_maint/pantheon_secrets \
        "$state/registry/pantheon_secrets"
      echo "disabled for PHP $version and removed $ini"
    fi
    if [ -e "$so" ]; then
      rm -f "$so"
      echo "removed $so"
    fi
    ;;
  *)
    echo "usage: tools/install.sh install EXTENSION.so | tools/install.sh uninstall" >&2
    exit 2
    ;;
esac
