//! The PHP functions and symbols this extension reaches that ext-php-rs's bindings do not carry,
//! each behind a small safe wrapper.

use std::ffi::{c_char, c_int, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use ext_php_rs::ffi::{sapi_module, zend_class_entry, zend_ini_entry};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};

extern "C" {
    // main/fopen_wrappers.h: 0 when `path` is inside open_basedir (or none is set), -1 otherwise.
    fn php_check_open_basedir_ex(path: *const c_char, warn: c_int) -> c_int;
    // ext/spl/spl_exceptions.h.
    static spl_ce_RuntimeException: *mut zend_class_entry;
    // main/SAPI.h: the SAPI's own variables (FastCGI parameters, Apache's SetEnv and
    // subprocess_env), copied with emalloc; null when absent.
    fn sapi_getenv(name: *const c_char, name_len: usize) -> *mut c_char;
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

/// The current value of ini setting `name` in this thread (PHP keeps one table per thread under
/// ZTS, so per-directory values of one request never show in another thread); `None` when no such
/// setting is registered.
pub fn ini_value(name: &str) -> Option<Vec<u8>> {
    let globals = ExecutorGlobals::get();
    // SAFETY: EG(ini_directives) is set up before any request runs and lives until shutdown; a
    // null table (before start-up) reads as no setting.
    let table = unsafe { globals.ini_directives.as_ref() }?;
    let entry = table.get(name)?;
    // SAFETY: the table stores each entry as a pointer to a live zend_ini_entry (zend_hash_add_ptr).
    let entry = unsafe { entry.ptr::<zend_ini_entry>()?.as_ref() }?;
    // SAFETY: an entry's value is null or a live zend_string holding `len` bytes.
    Some(unsafe { entry.value.as_ref() }.map_or_else(Vec::new, |s| {
        unsafe { std::slice::from_raw_parts(s.val.as_ptr().cast::<u8>(), s.len) }.to_vec()
    }))
}

/// The environment variable `name` as PHP's `getenv()` reads it: the SAPI's variables first (PHP-FPM's
/// `env[]` and FastCGI parameters such as nginx's `fastcgi_param`, Apache's `SetEnv`), then the
/// process environment.
pub fn getenv(name: &str) -> Option<String> {
    if let Some(value) = sapi_env(name) {
        return Some(value);
    }
    std::env::var(name).ok()
}

fn sapi_env(name: &str) -> Option<String> {
    // Some SAPIs read the name up to its NUL whatever the length says (Apache's does).
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `name` is NUL-terminated and valid for its length; sapi_getenv copies what it returns
    // with emalloc (or returns null), and that copy is freed below, once read.
    unsafe {
        let value = sapi_getenv(name.as_ptr(), name.as_bytes().len());
        if value.is_null() {
            return None;
        }
        let text = CStr::from_ptr(value).to_string_lossy().into_owned();
        ext_php_rs::alloc::efree(value.cast());
        Some(text)
    }
}

/// The name of the SAPI this process runs under (`cli`, `fpm-fcgi`, `apache2handler`, …).
pub fn sapi_name() -> String {
    // SAFETY: sapi_module is the engine's static SAPI description; its name is null or a static
    // C string set before any extension loads.
    unsafe {
        let name = sapi_module.name;
        if name.is_null() {
            String::new()
        } else {
            CStr::from_ptr(name).to_string_lossy().into_owned()
        }
    }
}
