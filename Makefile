# pantheon-secrets: every entry point. `make run` and `make test` are the contract (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := run

PHP ?= php
EXT := $(CURDIR)/target/release/pantheon_secrets.so
SERVER := $(CURDIR)/target/release/pantheon-secrets

.PHONY: deps build server run test e2e lint bench install clean

## deps: install what is missing (Debian: PHP headers, libclang for bindgen, php-fpm, cgi-fcgi, phpunit)
deps:
	@tools/deps.sh

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
	$(PHP) -l stubs/pantheon_secrets.stub.php

## test: lint, build, then every suite; ends with one line `N passed, N failed`
test: lint build server
	@EXT=$(EXT) SERVER=$(SERVER) PHP=$(PHP) tools/test.sh

## e2e: the service, nginx and PHP-FPM (three pools, two sites) on loopback, checked over HTTP;
##      then WordPress with the must-use plugin, checked in headless Chromium
e2e: build server
	@e2e/run.sh $(EXT) $(SERVER)
	@e2e/wordpress.sh $(EXT) $(SERVER)

## bench: the hit path next to ini_get(), constant(), getenv() and a userland JSON read; memory
bench: build server
	@EXT=$(EXT) SERVER=$(SERVER) PHP=$(PHP) bench/run.sh

## install: copy the extension into PHP's extension directory and enable it for every SAPI
install: build
	install -m 0644 $(EXT) "$$($(PHP)-config --extension-dir)/pantheon_secrets.so"
	@for dir in /etc/php/*/mods-available; do [ -d "$$dir" ] && echo "extension=pantheon_secrets.so" > "$$dir/pantheon_secrets.ini"; done; command -v phpenmod >/dev/null && phpenmod pantheon_secrets || true

clean:
	cargo clean
