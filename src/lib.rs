//! `pantheon_secrets`: the PHP layer. It translates between PHP and `secrets_runtime` (the cache,
//! backends and settings, `crates/runtime`) and decides nothing of its own: every rule lives in
//! `secrets_core` (`crates/core`).
#![cfg_attr(windows, feature(abi_vectorcall))]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alloc;
mod api;
mod clock;
mod exception;
mod ffi;
mod get_secret;
mod hot;
mod info;
mod ini;
mod mock;
mod runtime;
mod sdk;
mod values;

use ext_php_rs::prelude::*;

#[php_module]
pub fn module(module: ModuleBuilder) -> ModuleBuilder {
    mock::register(api::register(module))
        .startup_function(ini::startup)
        .info_function(info::php_info)
        .globals(&hot::HOT)
        .post_deactivate_function(hot::post_deactivate)
        .function(get_secret::function())
        .interface::<sdk::PhpInterfaceCustomerSecretsClientInterface>()
        .class::<sdk::CustomerSecretsClient>()
}
