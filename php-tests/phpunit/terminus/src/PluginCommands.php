<?php

namespace TerminusPluginTest;

/**
 * What the plugin's commands do with SecretsApi's results (from its documented behaviour): an
 * error result becomes `new TerminusException($result->getData())` (here `PluginException`,
 * which, like TerminusException, takes a string message, so a non-string body is a TypeError),
 * and success prints the plugin's notice, returned here.
 */
final class PluginCommands
{
    public const SET = 'Secret successfully set.';
    public const DELETED = 'Secret successfully deleted.';
    public const OVERRIDE_DELETED = 'Secret environment override deleted if it existed.';

    public static function secretExists(string $name): string
    {
        return sprintf("Secret '%s' already exists. To update the value, omit type and scopes options.", $name);
    }

    public function __construct(private PluginClient $api)
    {
    }

    /** `secret:site:set site[.env] name value [--type] [--scope]` */
    public function siteSet(string $siteEnv, string $name, string $value, ?string $type = null, ?string $scope = null): string
    {
        [$site, $env] = self::splitSiteEnv($siteEnv);
        return $this->set($this->api->setSecret($site, $name, $value, $env, $type, $scope));
    }

    /** `secret:org:set org name value [--type] [--scope] [--env]` */
    public function orgSet(string $org, string $name, string $value, ?string $type = null, ?string $scope = null, ?string $env = null): string
    {
        return $this->set($this->api->setSecret($org, $name, $value, $env, $type, $scope, 'organizations'));
    }

    /** `secret:site:delete site[.env] name` */
    public function siteDelete(string $siteEnv, string $name): string
    {
        [$site, $env] = self::splitSiteEnv($siteEnv);
        return $this->delete($this->api->deleteSecret($site, $name, $env), $env);
    }

    /** `secret:org:delete org name [--env]` */
    public function orgDelete(string $org, string $name, ?string $env = null): string
    {
        return $this->delete($this->api->deleteSecret($org, $name, $env, 'organizations'), $env);
    }

    /** `secret:site:list site` and `secret:org:list org`: the rows. */
    public function list(string $id, string $kind = 'sites'): array
    {
        $result = $this->api->listSecrets($id, $kind);
        if ($result instanceof RequestResult) {
            throw new PluginException($result->getData());
        }
        return $result;
    }

    /** `secret:site:local-generate site --filepath=FILE` */
    public function localGenerate(string $site, string $filepath): string
    {
        $result = $this->api->fetchSecrets($site);
        if ($result->getStatusCode() != 200) {
            throw new PluginException($result->getData());
        }
        if (file_put_contents($filepath, json_encode($result->getData(), JSON_PRETTY_PRINT)) === false) {
            throw new PluginException("Unable to write to file: $filepath");
        }
        return "Secrets file written to: $filepath.";
    }

    private function set(RequestResult $result): string
    {
        if ($result->isError()) {
            throw new PluginException($result->getData());
        }
        return self::SET;
    }

    private function delete(RequestResult $result, ?string $env): string
    {
        if ($result->isError()) {
            throw new PluginException($result->getData());
        }
        return $env ? self::OVERRIDE_DELETED : self::DELETED;
    }

    /** @return array{0: string, 1: ?string} */
    private static function splitSiteEnv(string $siteEnv): array
    {
        return str_contains($siteEnv, '.') ? explode('.', $siteEnv, 2) : [$siteEnv, null];
    }
}

/** Terminus' exception as the commands use it: a string message. */
final class PluginException extends \RuntimeException
{
    public function __construct(string $message)
    {
        parent::__construct($message);
    }
}
