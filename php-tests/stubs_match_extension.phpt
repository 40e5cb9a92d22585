--TEST--
stubs: stubs/pantheon_secrets.stub.php declares exactly what the extension provides (compared by Reflection)
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
// Describe every function and class in a process that loaded only the stub, and in this one,
// which has the extension; the two descriptions must be the same.
$describe = <<<'PHP'
function describe_function(ReflectionFunctionAbstract $f): string {
    $params = array_map(fn ($p) => ($p->hasType() ? $p->getType() . ' ' : '') . '$' . $p->getName()
        . ($p->isOptional() ? ' = ?' : '') . ($p->isVariadic() ? '...' : ''), $f->getParameters());
    return $f->getName() . '(' . implode(', ', $params) . '): ' . ($f->hasReturnType() ? $f->getReturnType() : 'mixed');
}
function describe(array $functions, array $classes): array {
    $out = array_map(fn ($name) => 'function ' . describe_function(new ReflectionFunction($name)), $functions);
    foreach ($classes as $name) {
        $c = new ReflectionClass($name);
        $kind = $c->isInterface() ? 'interface' : ($c->isFinal() ? 'final class' : 'class');
        $out[] = "$kind " . $c->getName() . ' extends ' . ($c->getParentClass() ? $c->getParentClass()->getName() : '-')
            . ' implements ' . implode(',', $c->getInterfaceNames());
        foreach ($c->getMethods() as $m) {
            if ($m->getDeclaringClass()->getName() === $c->getName()) {
                $out[] = '  ' . ($m->isStatic() ? 'static ' : '') . describe_function($m);
            }
        }
    }
    sort($out);
    return $out;
}
PHP;
eval($describe);
$ext = new ReflectionExtension('pantheon_secrets');
$mine = describe(array_keys($ext->getFunctions()), $ext->getClassNames());

$stub = realpath(__DIR__ . '/../stubs/pantheon_secrets.stub.php');
$script = tempnam(sys_get_temp_dir(), 'stub-reflection');
file_put_contents($script, "<?php\n$describe\n\$before = [get_defined_functions()['user'], get_declared_classes(), get_declared_interfaces()];\n"
    . "require " . var_export($stub, true) . ";\n"
    . "\$functions = array_values(array_filter(get_defined_functions()['user'], fn (\$f) => !in_array(\$f, \$before[0], true) && !in_array(\$f, ['describe_function', 'describe'], true)));\n"
    . "\$classes = array_values(array_diff(array_merge(get_declared_classes(), get_declared_interfaces()), \$before[1], \$before[2]));\n"
    . "echo json_encode(describe(\$functions, \$classes));\n");
$theirs = json_decode(shell_exec(escapeshellarg(PHP_BINARY) . ' -n ' . escapeshellarg($script)), true);
unlink($script);

$normalise = fn (array $lines) => array_map('strtolower', $lines);
echo count($mine) > 3 ? "extension describes " . count($mine) . " items\n" : "too little found\n";
$missing = array_diff($normalise($mine), $normalise($theirs ?? []));
$extra = array_diff($normalise($theirs ?? []), $normalise($mine));
echo $missing ? "in the extension, not in the stub:\n  " . implode("\n  ", $missing) . "\n" : "";
echo $extra ? "in the stub, not in the extension:\n  " . implode("\n  ", $extra) . "\n" : "";
echo !$missing && !$extra ? "stub and extension agree\n" : "";
?>
--EXPECTF--
extension describes %d items
stub and extension agree
