# pantheon-secrets: every entry point. `make run` and `make test` are the contract (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := run

PHP ?= php
EXT := $(CURDIR)/target/release/pantheon_secrets.so
SERVER := $(CURDIR)/target/release/pantheon-secrets

.PHONY: deps deps-test deps-e2e build server run test e2e lint bench install uninstall fresh matrix clean

## deps: the Debian packages a build needs, when missing (tools/deps.sh names the sets)
deps:
	@tools/deps.sh build
deps-test:
	@tools/deps.sh build test
deps-e2e:
	@tools/deps.sh build test e2e

## build: the release extension, as target/release/pantheon_secrets.so
build: deps
	cargo build --release -p pantheon_secrets
	cp target/release/libpantheon_secrets.so $(EXT)

## server: the secrets service and its CLI, as target/release/pantheon-secrets
server: deps
	cargo build --release -p pantheon-secrets-server --bin pantheon-secrets

## run: the service on loopback, secrets set through its CLI, PHP reading them over mutual TLS
run: build server
	@PHP=$(PHP) examples/run.sh $(EXT) $(SERVER)

## lint: formatting, clippy, and the stubs parse
lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(PHP) -n -l stubs/pantheon_secrets.stub.php

## test: lint, build, then every suite; ends with one line `N passed, N failed`
test: deps-test lint build server
	@EXT=$(EXT) SERVER=$(SERVER) PHP=$(PHP) tools/test.sh

## e2e: the service, nginx and PHP-FPM (three pools, two sites) on loopback, checked over HTTP;
##      then two replicas on PostgreSQL behind HAProxy (e2e/replicas.sh);
##      then WordPress with the must-use plugin, checked in headless Chromium
e2e: deps-e2e build server
	@e2e/run.sh $(EXT) $(SERVER)
	@e2e/replicas.sh $(EXT) $(SERVER)
	@e2e/wordpress.sh $(EXT) $(SERVER)

## bench: every figure of bench/REPORT.md in one run (instruction counts under callgrind, the web
##        path, memory, cold start, the service next to nginx, growth); BENCH_SMOKE=1 at tiny sizes
bench: deps-test build server
	@EXT=$(EXT) SERVER=$(SERVER) PHP=$(PHP) bench/run.sh

## install: the extension into the extension directory of the PHP it was built for, enabled for
##          that PHP's SAPIs; uninstall: undoes it
install: build
	@PHP=$(PHP) tools/install.sh install $(EXT)
uninstall:
	@PHP=$(PHP) tools/install.sh uninstall

## fresh: the README's commands in a brand-new Debian 12 root (make run, make test, make install,
##        make test again, make uninstall), from the committed HEAD; the log lands in target/fresh/
fresh:
	@tools/deps.sh fresh
	@tools/fresh.sh

## matrix: the suites on every PHP build of the support table (PHP 8.2 here; PHP 8.4 in a new
##         Debian 13 root), with PHP-FPM and Apache prefork; one line per build and server
matrix: deps-test build server
	@tools/deps.sh fresh
	@tools/matrix.sh

clean:
	cargo clean

## deb: Debian packages of the release builds, made with cargo-deb (installed when missing) into
##      target/debian/: pantheon-secrets (the service, run by systemd as its own user) and
##      phpX.Y-pantheon-secrets (the extension for the PHP it was built against, enabled with phpenmod)
## package-test: both installed with dpkg -i in a brand-new Debian 12 root, and checked working there
## dist: the archive PIE's pre-packaged-binary method installs (target/dist/), then checked
.PHONY: deb package-test dist
deb: build server
	@tools/deps.sh deb
	@PHP=$(PHP) tools/deb.sh
package-test: deb
	@tools/deps.sh fresh
	@tools/package-test.sh
dist: build
	@tools/deps.sh dist
	@PHP=$(PHP) tools/dist.sh
	@PHP=$(PHP) tools/dist-test.sh
