//! The PHP functions and symbols this extension reaches that ext-php-rs's bindings do not carry,
//! each behind a small safe wrapper.

use std::ffi::{c_char, c_int, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use ext_php_rs::ffi::zend_class_entry;
use ext_php_rs::zend::ClassEntry;

extern "C" {
    // main/fopen_wrappers.h: 0 when `path` is inside open_basedir (or none is set), -1 otherwise.
    fn php_check_open_basedir_ex(path: *const c_char, warn: c_int) -> c_int;
    // ext/spl/spl_exceptions.h.
    static spl_ce_RuntimeException: *mut zend_class_entry;
}

/// Whether PHP's `open_basedir` of the current request allows reading `path`, by PHP's own rule
/// (the path is resolved, symlinks included, and compared with every allowed directory). Raises no
/// warning: the caller words the refusal.
pub fn open_basedir_allows(path: &Path) -> bool {
    let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
        return false; // a NUL in a path names nothing that may be opened
    };
    // SAFETY: `path` is a NUL-terminated string that outlives the call; PHP only reads it and its
    // own per-request settings. Called only from PHP's thread, during a request or start-up.
    unsafe { php_check_open_basedir_ex(path.as_ptr(), 0) == 0 }
}

/// `\RuntimeException`'s class entry.
pub fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: SPL is part of PHP and registers RuntimeException before any extension starts.
    unsafe { &*spl_ce_RuntimeException }
}
