<?php
// A WordPress-style options reader: secrets become constants and option overrides, the way
// plugins expect them (define('WPMS_SMTP_PASS', pantheon_get_secret('smtp_pass'))).

namespace SampleApp;

final class OptionsReader
{
    /** @param array<string, string> $map option or constant name => secret name */
    public function __construct(private array $map, private array $options = [])
    {
    }

    /** The option's value: the secret when there is one, else the stored option, else $default. */
    public function get(string $option, ?string $default = null): ?string
    {
        $secret = isset($this->map[$option]) ? pantheon_get_secret($this->map[$option]) : null;
        return $secret ?? $this->options[$option] ?? $default;
    }

    /** Defines each mapped constant that has a secret (as wp-config.php would), returns their names. */
    public function defineConstants(string $prefix = ''): array
    {
        $defined = [];
        foreach ($this->map as $constant => $secret) {
            $value = pantheon_get_secret($secret);
            if ($value !== null && !defined($prefix . $constant)) {
                define($prefix . $constant, $value);
                $defined[] = $prefix . $constant;
            }
        }
        return $defined;
    }
}
