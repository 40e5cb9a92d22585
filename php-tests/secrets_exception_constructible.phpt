--TEST--
SecretsException: user code constructs, throws and catches it as a RuntimeException
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
use Pantheon\Secrets\SecretsException;

$previous = new LogicException('cause');
$e = new SecretsException('x', 7, $previous);
var_dump($e->getMessage(), $e->getCode(), $e->getPrevious() === $previous);
var_dump($e instanceof RuntimeException, (new ReflectionClass(SecretsException::class))->isInstantiable());
try {
    throw new SecretsException('thrown by user code');
} catch (RuntimeException $caught) {
    echo get_class($caught), ': ', $caught->getMessage(), "\n";
}
$plain = new SecretsException();
var_dump($plain->getMessage(), $plain->getLine() === __LINE__ - 1);
try {
    Pantheon\Secrets\mock(['A' => 'a']);
} catch (SecretsException $e) {
    echo "the extension's own: ", get_class($e), "\n";
}
?>
--EXPECT--
string(1) "x"
int(7)
bool(true)
bool(true)
bool(true)
Pantheon\Secrets\SecretsException: thrown by user code
string(0) ""
bool(true)
the extension's own: Pantheon\Secrets\SecretsException
