<?php
declare(strict_types=1);

require __DIR__ . '/../src/RequestResult.php';
require __DIR__ . '/../src/TerminusRequest.php';
require __DIR__ . '/../src/PluginClient.php';
require __DIR__ . '/../src/PluginCommands.php';
require __DIR__ . '/../src/Service.php';
require __DIR__ . '/PluginTestCase.php';
