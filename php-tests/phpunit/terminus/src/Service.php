<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/**
 * One secrets service for the suite, started by tools/service.sh (as every script of the
 * repository starts it) in a fresh temporary directory: `init`, `serve` on a free loopback port,
 * and the file the helper writes (URL, PID, data directory, admin token); operator commands on
 * the same data directory; stopped (SIGTERM) and removed at the end.
 */
final class Service
{
    public readonly string $data;
    public readonly string $url;
    public readonly string $admin;

    /** The binary: $SERVER, else target/release/pantheon-secrets of this repository. */
    public static function binary(): string
    {
        $server = getenv('SERVER');
        if ($server === false || $server === '') {
            $server = self::root() . '/target/release/pantheon-secrets';
        }
        return $server;
    }

    public function __construct(private string $bin, private string $dir)
    {
        self::helper(['start', $dir, $bin, '--rate-limit', '0']);
        $started = self::started("$dir/service.env");
        $this->data = $started['SERVICE_DATA_DIR'];
        $this->url = $started['PANTHEON_SECRETS_URL'];
        $this->admin = $started['PANTHEON_SECRETS_TOKEN'];
    }

    /** Runs an operator command on the data directory; returns its standard output. */
    public function op(string ...$args): string
    {
        array_splice($args, 1, 0, ['--data-dir', $this->data]);
        return trim($this->run($args));
    }

    /** @param list<string> $args */
    private function run(array $args): string
    {
        $process = proc_open(
            array_merge([$this->bin], $args),
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes
        );
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        if (proc_close($process) !== 0) {
            throw new \RuntimeException(implode(' ', $args) . ": $err");
        }
        return (string) $out;
    }

    /** A request object that trusts this service's CA, as Terminus would with it configured. */
    public function request(): TerminusRequest
    {
        return new TerminusRequest("{$this->data}/ca.pem", 'localhost');
    }

    /** The plugin's client with this session token; the base URL as the plugin builds it. */
    public function plugin(string $session): PluginClient
    {
        return new PluginClient($this->request(), "{$this->url}/customer-secrets/v1", $session);
    }

    public function stop(): void
    {
        if (is_dir($this->dir)) {
            self::helper(['stop', $this->dir]);
        }
        self::remove($this->dir);
    }

    private static function root(): string
    {
        return dirname(__DIR__, 4);
    }

    /** @param list<string> $args */
    private static function helper(array $args): void
    {
        $process = proc_open(
            array_merge([self::root() . '/tools/service.sh'], $args),
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]],
            $pipes
        );
        $out = stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        if (proc_close($process) !== 0) {
            throw new \RuntimeException("tools/service.sh {$args[0]}: $out");
        }
    }

    /**
     * The KEY=value lines of the helper's file. Its values are shell-quoted; the paths a temporary
     * directory has need no quoting, and a value that has some is refused rather than misread.
     *
     * @return array<string, string>
     */
    private static function started(string $file): array
    {
        $values = [];
        foreach (file($file, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
            if ($line === '' || $line[0] === '#') {
                continue;
            }
            [$key, $value] = explode('=', $line, 2) + [1 => ''];
            if (preg_match('/[^A-Za-z0-9_.\/:@%+,-]/', $value)) {
                throw new \RuntimeException("$file: $key is quoted; start the suite from a plainer temporary directory");
            }
            $values[$key] = $value;
        }
        foreach (['SERVICE_DATA_DIR', 'PANTHEON_SECRETS_URL', 'PANTHEON_SECRETS_TOKEN'] as $key) {
            if (!isset($values[$key])) {
                throw new \RuntimeException("$file has no $key");
            }
        }
        return $values;
    }

    private static function remove(string $path): void
    {
        if (is_dir($path) && !is_link($path)) {
            foreach (scandir($path) ?: [] as $entry) {
                if ($entry !== '.' && $entry !== '..') {
                    self::remove("$path/$entry");
                }
            }
            rmdir($path);
        } elseif (file_exists($path) || is_link($path)) {
            unlink($path);
        }
    }
}
