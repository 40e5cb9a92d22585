#!/usr/bin/env bash
# The packages of `make deb` installed with `dpkg -i` on this system, and checked working. Run as root
# in a throwaway root (tools/package-test.sh's brand-new Debian root; the last step of `make fresh`),
# never on a machine you care about: it makes a system user and /var/lib/pantheon-secrets, and ends
# by removing both packages (the data directory stays, as dpkg -r leaves it).
#   the service's postinst made the system user, the data directory (0700, every file the user's)
#   and a root-only admin token file; the unit's ExecStart, run as the unit's User with what systemd
#   would give it (Environment=, EnvironmentFile=, UMask, NoNewPrivileges; there is no systemd in a
#   chroot), answers /readyz over TLS verified against the service's ca.pem, under localhost and this
#   machine's name; the extension's postinst enabled it (`php -m` lists pantheon_secrets) and its ini
#   file has every setting the extension registers; PHP reads a secret set with the admin token
#   through a binding; SIGTERM stops the service with status 0; installing the extension again leaves
#   it disabled when the administrator disabled it; `dpkg -r` disables and removes it (installing
#   enables it again), `dpkg -P` removes its ini file; `dpkg -r` of the service leaves the data.
# Environment: SERVER_DEB, PHP_DEB (the packages' paths) and PHP_VERSION, or else those of
# target/debian/packages.env (written by tools/deb.sh). The packages' dependencies must be
# installable: missing ones (adduser, init-system-helpers, curl) are installed with apt-get first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SERVER_DEB:-}" ] && [ -f target/debian/packages.env ]; then
  # shellcheck disable=SC1091
  . target/debian/packages.env
fi
: "${SERVER_DEB:?SERVER_DEB is not set and there is no target/debian/packages.env: run make deb}"
: "${PHP_DEB:?PHP_DEB is not set}" "${PHP_VERSION:?PHP_VERSION is not set}"
[ "$(id -u)" = 0 ] || { echo "tools/package-check.sh runs as root (dpkg -i)" >&2; exit 1; }
fail() { echo "package-test: FAILED: $*"; exit 1; }
ok() { echo "package-test: ok: $*"; }
user=pantheon-secrets data=/var/lib/pantheon-secrets token_file=/root/pantheon-secrets-admin-token
ini=/etc/php/$PHP_VERSION/mods-available/pantheon_secrets.ini

need=()
for pkg in adduser init-system-helpers curl; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2> /dev/null)" = installed ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" < /dev/null > /dev/null \
    || fail "apt-get install ${need[*]}"
fi

echo "== dpkg -i ${SERVER_DEB##*/} ${PHP_DEB##*/}"
dpkg -i "$SERVER_DEB" "$PHP_DEB" || fail "dpkg -i"
# The service package: user, data directory, admin token.
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd "$user") || fail "no user $user"
[ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ] && [ "$home" = "$data" ] \
  || fail "$user is not a system user without a shell (uid $uid, shell $shell, home $home)"
[ "$(stat -c "%U %a" "$data")" = "$user 700" ] || fail "$data is $(stat -c "%U %a" "$data"), not $user 700"
[ -s "$data/secrets.db" ] && [ -s "$data/ca.pem" ] || fail "postinst did not initialize $data"
others=$(find "$data" ! -user "$user")
[ -z "$others" ] || fail "files in $data not owned by $user: $others"
[ "$(stat -c "%U %a" "$token_file")" = "root 600" ] && [ -s "$token_file" ] \
  || fail "$token_file is missing or not root-only"
[ -L /etc/systemd/system/multi-user.target.wants/pantheon-secrets.service ] \
  || fail "postinst did not enable pantheon-secrets.service"
ok "postinst made $user (uid $uid), $data (0700) and $token_file (0600), and enabled the unit"

# The extension package: enabled, every setting in its ini file.
# grep reads all of php -m (grep -q would stop early, and the SIGPIPE fail the pipeline now and then).
enabled() { php -m | grep -x pantheon_secrets > /dev/null; }
enabled || {
  phpquery -v "$PHP_VERSION" -s cli -m pantheon_secrets; ls -l "/etc/php/$PHP_VERSION/cli/conf.d/"
  fail "php -m does not list pantheon_secrets"
}
[ -L "/etc/php/$PHP_VERSION/cli/conf.d/20-pantheon_secrets.ini" ] || fail "phpenmod made no cli/conf.d link"
settings=$(php -r "echo implode(\"\n\", array_keys(ini_get_all(\"pantheon_secrets\"))), \"\n\";")
[ "$(echo "$settings" | wc -l)" -ge 10 ] || fail "the extension registers only: $settings"
for setting in $settings; do
  grep -qE "^;$setting =" "$ini" || fail "$ini does not show $setting (commented, with its default)"
done
ok "php -m lists pantheon_secrets; $ini shows all $(echo "$settings" | wc -l) settings, commented"

# The unit, started as systemd would start it: its User, Environment= then EnvironmentFile=, its
# UMask and NoNewPrivileges, and ExecStart with the variables expanded. Port 0: the real address
# is in the line serve prints.
unit=$(dpkg -L pantheon-secrets | grep -E "/systemd/system/pantheon-secrets\.service$")
[ -n "$unit" ] || fail "the package has no pantheon-secrets.service"
unit_user=$(sed -n "s/^User=//p" "$unit")
[ "$unit_user" = "$user" ] || fail "the unit runs as \"$unit_user\""
for directive in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes StateDirectory=pantheon-secrets StateDirectoryMode=0700; do
  grep -qx "$directive" "$unit" || fail "the unit lacks $directive"
done
exec_start=$(sed -n "s/^ExecStart=//p" "$unit")
environment=$(sed -n "s/^Environment=//p" "$unit")
echo "LISTEN=127.0.0.1:0" > /etc/default/pantheon-secrets
(
  set +u -a
  eval "$environment"
  . /etc/default/pantheon-secrets
  set +a
  eval "set -- $exec_start"
  umask 077
  exec setpriv --reuid="$unit_user" --regid="$unit_user" --init-groups --no-new-privs -- "$@"
) > /root/serve.log 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "^listening on https://" /root/serve.log && break
  kill -0 "$pid" 2> /dev/null || { cat /root/serve.log; fail "the service exited"; }
  sleep 0.2
done
addr=$(sed -n "s|^listening on https://||p" /root/serve.log | sed -n 1p)
[ -n "$addr" ] || { cat /root/serve.log; fail "the service did not start listening"; }
port=${addr##*:}
[ "$(stat -c %U "/proc/$pid")" = "$user" ] || fail "the service runs as $(stat -c %U "/proc/$pid")"
grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status" || fail "the service may gain privileges"
ok "ExecStart as $user: listening on $addr"

ca=$data/ca.pem
if grep -qa /readyz /usr/bin/pantheon-secrets; then
  what=/readyz
  status=$(curl -sS --cacert "$ca" -o /dev/null -w "%{http_code}" "https://localhost:$port/readyz")
  [ "$status" = 200 ] || fail "/readyz answered $status"
else
  what="/ (this build has no /readyz)"
  status=$(curl -sS --cacert "$ca" -o /dev/null -w "%{http_code}" "https://localhost:$port/")
  [[ "$status" =~ ^[1-5][0-9][0-9]$ ]] || fail "no HTTP answer on the TLS port ($status)"
fi
name=$(hostname)
curl -sS --cacert "$ca" -o /dev/null --resolve "$name:$port:127.0.0.1" "https://$name:$port/" \
  || fail "the certificate does not name this machine ($name)"
ok "$what answered $status over TLS verified against $ca, as localhost and as $name"

# A secret set through the API with the admin token, read by PHP through a binding.
as_user() { runuser -u "$user" -- "$@"; }
as_user pantheon-secrets site:create --data-dir "$data" pkg-site > /dev/null
issued=$(mktemp -d) && chown "$user" "$issued"
as_user pantheon-secrets binding:issue --data-dir "$data" pkg-site.live --out "$issued/binding.pem" > /dev/null
install -m 0400 "$issued/binding.pem" /root/binding.pem
printf %s "from-the-package" | PANTHEON_SECRETS_URL="https://localhost:$port" \
  PANTHEON_SECRETS_TOKEN="$(cat "$token_file")" PANTHEON_SECRETS_CA_FILE="$ca" \
  pantheon-secrets secret:site:set pkg-site PKG_KEY --scope=web > /dev/null
value=$(php -d "pantheon_secrets.backend=https://localhost:$port" -d pantheon_secrets.client_cert=/root/binding.pem \
  -d "pantheon_secrets.ca_file=$ca" -r "echo pantheon_get_secret(\"PKG_KEY\") ?? \"(null)\";")
[ "$value" = from-the-package ] || fail "PHP read \"$value\" for PKG_KEY"
ok "PHP read the secret set with the admin token, through the binding"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat /root/serve.log; fail "SIGTERM: the service exited with status $rc"; }
ok "SIGTERM: the service stopped with status 0"

ext_pkg=php$PHP_VERSION-pantheon-secrets link=/etc/php/$PHP_VERSION/cli/conf.d/20-pantheon_secrets.ini
phpdismod -v "$PHP_VERSION" -s ALL pantheon_secrets
dpkg -i "$PHP_DEB" > /dev/null || fail "dpkg -i of $ext_pkg again"
! enabled || fail "installing again re-enabled the module the administrator had disabled"
phpenmod -v "$PHP_VERSION" -s ALL pantheon_secrets && enabled || fail "phpenmod did not enable it"
ok "a module the administrator disabled stays disabled when the package is installed again"
dpkg -r "$ext_pkg" > /dev/null
! enabled || fail "php -m still lists pantheon_secrets after dpkg -r"
[ ! -e "$link" ] && [ ! -e "$(php -r "echo PHP_EXTENSION_DIR;")/pantheon_secrets.so" ] \
  || fail "dpkg -r left the conf.d link or the .so"
dpkg -i "$PHP_DEB" > /dev/null && enabled || fail "installed after dpkg -r, it is not enabled"
dpkg -P "$ext_pkg" > /dev/null
[ ! -e "$ini" ] && [ ! -e "$link" ] || fail "dpkg -P left $ini or $link"
ok "dpkg -r disables and removes the extension, installing enables it again, dpkg -P removes its ini"
dpkg -r pantheon-secrets
[ ! -e /usr/bin/pantheon-secrets ] && [ -s "$data/secrets.db" ] || fail "dpkg -r: binary kept or data lost"
ok "dpkg -r pantheon-secrets: the service is gone, its data kept"
