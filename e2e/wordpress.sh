#!/usr/bin/env bash
# `make e2e` (WordPress part): Debian's WordPress on loopback — MariaDB in a temporary directory,
# PHP-FPM with the extension reading the site's secrets from the service over mTLS, nginx — with
# the must-use plugin of integrations/wordpress. Headless Chromium loads the front page (the
# constant the plugin defined reached the page) and Tools → Secrets (secrets listed, values
# masked). Everything it started is stopped and removed at the end, also on failure.
# usage: e2e/wordpress.sh EXTENSION.so PANTHEON_SECRETS_BINARY
# Prints "ok - …" / "not ok - …" per check and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
EXT=$1 BIN=$2
STACK_NAME=wp
. e2e/lib.sh
SMTP_PASS='smtp-Pa55-e2e-value'

# The service, with the secrets the plugin maps and one the site may not see.
service_with_sites "$BIN" wp-org wp-site || exit 1
set_secret wp-site smtp_pass "$SMTP_PASS" --scope=web,user
set_secret wp-site BUILD_TOKEN build-only-e2e-value --type=env --scope=ic
issue_binding wp-site.dev "$work/binding.pem"
chmod 0644 "$data/ca.pem"

# MariaDB, private to this run.
mariadb-install-db --no-defaults --datadir="$work/db" --user="$(id -un)" --auth-root-authentication-method=normal > "$work/db-install.log" 2>&1 || { cat "$work/db-install.log"; exit 1; }
spawn db mariadbd --no-defaults --datadir="$work/db" --socket="$work/db.sock" --skip-networking --pid-file="$work/db.pid" --user="$(id -un)"
wait_for "[ -S '$work/db.sock' ]" || { cat "$work/db.out"; exit 1; }
mariadb --no-defaults -S "$work/db.sock" -u root -e "CREATE DATABASE wp; CREATE USER wp@localhost IDENTIFIED BY 'wp'; GRANT ALL ON wp.* TO wp@localhost;"

# WordPress from Debian's package, copied so that nothing system-wide changes.
wp=$work/wp
cp -rL /usr/share/wordpress "$wp"
mkdir -p "$wp/wp-content/mu-plugins" "$wp/wp-content/themes/e2e" "$wp/wp-content/uploads"
cp integrations/wordpress/pantheon-secrets.php "$wp/wp-content/mu-plugins/"
port=$(free_port)
cat > "$wp/wp-config.php" <<CONF
<?php
define('DB_NAME', 'wp'); define('DB_USER', 'wp'); define('DB_PASSWORD', 'wp');
define('DB_HOST', 'localhost:$work/db.sock'); define('DB_CHARSET', 'utf8mb4'); define('DB_COLLATE', '');
define('WP_HOME', 'http://127.0.0.1:$port'); define('WP_SITEURL', 'http://127.0.0.1:$port');
define('AUTH_KEY', 'e2e-1'); define('SECURE_AUTH_KEY', 'e2e-2'); define('LOGGED_IN_KEY', 'e2e-3'); define('NONCE_KEY', 'e2e-4');
define('AUTH_SALT', 'e2e-5'); define('SECURE_AUTH_SALT', 'e2e-6'); define('LOGGED_IN_SALT', 'e2e-7'); define('NONCE_SALT', 'e2e-8');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content'); define('DISALLOW_FILE_MODS', true); define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true); define('WP_CRON_DISABLE', true); define('DISABLE_WP_CRON', true);
\$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
CONF
printf '/*\nTheme Name: E2E\n*/\n' > "$wp/wp-content/themes/e2e/style.css"
# Canonical redirects are not under test (behind this nginx they loop on the bare address).
printf '<?php\nremove_action("template_redirect", "redirect_canonical");\n' > "$wp/wp-content/themes/e2e/functions.php"
cat > "$wp/wp-content/themes/e2e/index.php" <<'PHP'
<!doctype html><html><head><?php wp_head(); ?></head><body>
<p id="e2e-constant"><?php echo defined('WPMS_SMTP_PASS') ? 'WPMS_SMTP_PASS sha256 ' . hash('sha256', WPMS_SMTP_PASS) : 'WPMS_SMTP_PASS undefined'; ?></p>
<?php wp_footer(); ?></body></html>
PHP

# PHP-FPM (4 static workers) and nginx.
{
  fpm_pool wp 4
  fpm_service_settings "$work/binding.pem"
  echo "php_admin_flag[display_errors] = off"
  echo "php_admin_value[error_log] = $work/php-errors.log"
} > "$work/pools.conf"
fpm_start "$EXT" -d extension=mysqlnd -d extension=mysqli
# Files as they are, pretty permalinks to index.php, .php files to the pool.
nginx_server "$port" "    root $wp;
    index index.php;
    location / { try_files \$uri \$uri/ /index.php?\$args; }
$(fastcgi_location '~ \.php$' "$work/wp.sock" '$document_root$fastcgi_script_name')" > "$work/servers.conf"
nginx_start

# Install WordPress without a browser, with the extension loaded as in the pool.
php -d "extension=$EXT" -d "pantheon_secrets.backend=https://127.0.0.1:$service_port" \
  -d "pantheon_secrets.client_cert=$work/binding.pem" -d "pantheon_secrets.ca_file=$data/ca.pem" -r '
  $_SERVER["HTTP_HOST"] = "127.0.0.1"; define("WP_INSTALLING", true);
  require $argv[1] . "/wp-load.php"; require_once ABSPATH . "wp-admin/includes/upgrade.php";
  wp_install("E2E", "admin", "admin@example.invalid", false, "", "e2e-admin-Passw0rd");
  switch_theme("e2e");' "$wp" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
wait_for "curl -s -o /dev/null 'http://127.0.0.1:$port/'" || { echo "nginx did not answer"; exit 1; }

# The browser.
node --experimental-websocket e2e/browser.mjs "http://127.0.0.1:$port" admin e2e-admin-Passw0rd "$(free_port)" "$work/chromium" \
  > "$work/pages.json" 2> "$work/browser.log" || { cat "$work/browser.log"; }
page() { php -r '$p = json_decode(file_get_contents($argv[1]), true); echo $p[$argv[2]] ?? "";' "$work/pages.json" "$1"; }
page front > "$work/front.html"
page admin > "$work/admin.html"
[ -n "${E2E_DEBUG:-}" ] && grep -o '<p id="e2e-constant">[^<]*' "$work/front.html"
expected=$(printf '%s' "$SMTP_PASS" | sha256sum | cut -d' ' -f1)
check "the front page shows the constant the plugin defined from the secret" grep -q "WPMS_SMTP_PASS sha256 $expected" "$work/front.html"
check "Tools → Secrets lists the site's web secret" grep -q '<code>smtp_pass</code>' "$work/admin.html"
check "Tools → Secrets shows scopes, the constant and the cache state" \
  bash -c "grep -q 'web, user' '$work/admin.html' && grep -q 'WPMS_SMTP_PASS</code> (defined)' '$work/admin.html' && grep -q pantheon-secrets-cache '$work/admin.html'"
check "the value is masked" grep -q "(${#SMTP_PASS} bytes)" "$work/admin.html"
check "no page prints a value unmasked, nor a build-only secret" \
  bash -c "! grep -q -e '$SMTP_PASS' -e build-only-e2e-value -e BUILD_TOKEN '$work/front.html' '$work/admin.html'"
summary
