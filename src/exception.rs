//! `Pantheon\Secrets\SecretsException`: the extension's one exception class, a plain
//! `\RuntimeException` that user code and tests can construct, throw and catch like any other.
//!
//! It holds no Rust state, so it is registered as a bare class that inherits everything from
//! `\RuntimeException`, constructor included: a `#[php_class]` always gets a constructor of its own,
//! which refuses `new` when the Rust type has none.

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::zend::ClassEntry;

use crate::ffi::runtime_exception;

/// The class's PHP name.
pub const NAME: &str = "Pantheon\\Secrets\\SecretsException";

/// The registered class entry; null until module start-up registered it.
static CLASS: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

/// Registers the class. Call once, from module start-up (MINIT).
pub fn register() -> ext_php_rs::error::Result<()> {
    ClassBuilder::new(NAME)
        .extends((runtime_exception, "\\RuntimeException"))
        .registration(|ce, arg_info| {
            // No methods of its own: the tables are empty, and nothing may free what PHP borrows.
            std::mem::forget(arg_info);
            CLASS.store(ce, Ordering::Release);
        })
        .register()
}

/// A `SecretsException` carrying `message` (a `\RuntimeException` before start-up registered it).
pub fn secrets_exception(message: String) -> PhpException {
    let class = CLASS.load(Ordering::Acquire);
    // SAFETY: a non-null pointer is the class entry PHP registered; it lives as long as the module.
    let class: &'static ClassEntry = match unsafe { class.as_ref() } {
        Some(class) => class,
        None => runtime_exception(),
    };
    PhpException::new(message, 0, class)
}
