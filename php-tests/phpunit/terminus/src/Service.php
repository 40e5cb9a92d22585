<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/**
 * One secrets service for the suite: `init` in a fresh temporary data directory, `serve` on
 * 127.0.0.1 port 0 (the real address is its first line of output), operator commands on the
 * same directory; stopped (SIGTERM) and removed at the end.
 */
final class Service
{
    public readonly string $data;
    public readonly string $url;
    public readonly string $admin;
    /** @var resource */
    private $process;
    /** @var array<int, resource> */
    private array $pipes = [];

    /** The binary: $SERVER, else target/release/pantheon-secrets of this repository. */
    public static function binary(): string
    {
        $server = getenv('SERVER');
        if ($server === false || $server === '') {
            $server = dirname(__DIR__, 4) . '/target/release/pantheon-secrets';
        }
        return $server;
    }

    public function __construct(private string $bin, private string $dir)
    {
        $this->data = "$dir/data";
        $this->admin = trim($this->run(['init', '--data-dir', $this->data]));
        $this->process = proc_open(
            [$bin, 'serve', '--data-dir', $this->data, '--listen', '127.0.0.1:0', '--rate-limit', '0'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', "$dir/service.log", 'a']],
            $this->pipes
        );
        $read = [$this->pipes[1]];
        $none = [];
        if (!is_resource($this->process) || stream_select($read, $none, $none, 20) !== 1) {
            throw new \RuntimeException('the service did not start: ' . @file_get_contents("$dir/service.log"));
        }
        $line = trim((string) fgets($this->pipes[1]));
        if (!str_starts_with($line, 'listening on https://')) {
            throw new \RuntimeException("unexpected first line '$line': " . @file_get_contents("$dir/service.log"));
        }
        $this->url = substr($line, strlen('listening on '));
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
        if (is_resource($this->process)) {
            proc_terminate($this->process, 15);
            fclose($this->pipes[1]);
            proc_close($this->process);
        }
        self::remove($this->dir);
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
