<?php
/**
 * Plugin Name: Pantheon Secrets
 * Description: Maps secrets read by the pantheon_secrets extension to the constants WordPress plugins
 *              expect, and shows under Tools → Secrets which secrets this site can read (values masked).
 * Version: 0.1.0
 *
 * A must-use plugin: copy this file into wp-content/mu-plugins/. Which constant receives which secret
 * is the PANTHEON_SECRETS_CONSTANTS map below (override it in wp-config.php by defining it first).
 */

if (!defined('ABSPATH')) {
    exit;
}

if (!defined('PANTHEON_SECRETS_CONSTANTS')) {
    /** constant => secret name; a constant already defined (in wp-config.php) is left alone. */
    define('PANTHEON_SECRETS_CONSTANTS', [
        'WPMS_SMTP_PASS' => 'smtp_pass',
        'STRIPE_SECRET_KEY' => 'stripe_secret_key',
    ]);
}

/** Defines each mapped constant whose secret exists here. */
function pantheon_secrets_define_constants(): void
{
    if (!function_exists('pantheon_get_secret')) {
        return;
    }
    foreach (PANTHEON_SECRETS_CONSTANTS as $constant => $secret) {
        if (!defined($constant)) {
            $value = pantheon_get_secret($secret);
            if ($value !== null) {
                define($constant, $value);
            }
        }
    }
}
pantheon_secrets_define_constants();

/** A value as the admin screen shows it: never the value, only its length. */
function pantheon_secrets_mask(string $value): string
{
    return str_repeat('•', min(12, strlen($value))) . ' (' . strlen($value) . ' bytes)';
}

add_action('admin_menu', function (): void {
    add_management_page('Secrets', 'Secrets', 'manage_options', 'pantheon-secrets', 'pantheon_secrets_admin_page');
});

function pantheon_secrets_admin_page(): void
{
    if (!current_user_can('manage_options')) {
        wp_die(esc_html__('Sorry, you are not allowed to access this page.'));
    }
    echo '<div class="wrap"><h1>Secrets</h1>';
    if (!class_exists('\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient')) {
        echo '<p>The pantheon_secrets extension is not loaded.</p></div>';
        return;
    }
    $document = \Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create(['version' => '1'])->get();
    $constants = array_flip(PANTHEON_SECRETS_CONSTANTS);
    echo '<table class="widefat striped" id="pantheon-secrets"><thead><tr><th>Name</th><th>Type</th><th>Scopes</th>'
        . '<th>Value</th><th>Constant</th></tr></thead><tbody>';
    foreach ($document['Secrets'] as $name => $secret) {
        $constant = $constants[$name] ?? null;
        printf('<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
            esc_html($name), esc_html($secret['Type']), esc_html(implode(', ', $secret['Scopes'])),
            esc_html(pantheon_secrets_mask($secret['Value'])),
            $constant ? '<code>' . esc_html($constant) . '</code>' . (defined($constant) ? ' (defined)' : '') : '');
    }
    echo '</tbody></table>';
    $status = \Pantheon\Secrets\status();
    echo '<h2>Cache</h2><table class="widefat" id="pantheon-secrets-cache"><tbody>';
    foreach (['backend', 'environment', 'count', 'fetch_count', 'age', 'stale', 'failures', 'last_status', 'last_error'] as $key) {
        $value = $status[$key];
        printf('<tr><th>%s</th><td>%s</td></tr>', esc_html($key),
            esc_html(is_bool($value) ? ($value ? 'yes' : 'no') : (is_float($value) ? round($value, 1) . ' s' : (string) ($value ?? '-'))));
    }
    echo '</tbody></table></div>';
}
