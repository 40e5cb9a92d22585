//! The PHP functions, symbols and constants this extension reaches that ext-php-rs's safe API does
//! not carry: every raw Zend declaration of the extension lives here. Constants come from the
//! bindings generated from PHP's own headers where those carry them (`IS_STRING`, `GC_IMMUTABLE`,
//! the expected-type enum), so a PHP that renumbers them fails to build or is followed; the few the
//! bindings lack are written once below, each pinned to the bindings by a compile-time check.

use std::ffi::{c_char, c_int, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use ext_php_rs::ffi::{
    _zend_expected_type_Z_EXPECTED_STRING, sapi_module, zend_class_entry, zend_ini_entry, zend_string,
    GC_FLAGS_MASK, GC_FLAGS_SHIFT, GC_IMMUTABLE, IS_STRING, ZEND_RESULT_CODE_FAILURE,
    ZEND_RESULT_CODE_SUCCESS, Z_TYPE_FLAGS_SHIFT,
};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};

extern "C" {
    // main/fopen_wrappers.h: 0 when `path` is inside open_basedir (or none is set), -1 otherwise.
    fn php_check_open_basedir_ex(path: *const c_char, warn: c_int) -> c_int;
    // ext/spl/spl_exceptions.h.
    static spl_ce_RuntimeException: *mut zend_class_entry;
    // main/SAPI.h: the SAPI's own variables (FastCGI parameters, Apache's SetEnv and
    // subprocess_env), copied with emalloc; null when absent.
    fn sapi_getenv(name: *const c_char, name_len: usize) -> *mut c_char;
    // Zend/zend_API.h: coerce an argument to a string as zpp does (non-strict mode).
    pub fn zend_parse_arg_str_slow(arg: *mut Zval, dest: *mut *mut zend_string, arg_num: u32) -> bool;
    // Zend/zend_string.h: compute (and keep in the string) its hash.
    pub fn zend_string_hash_func(s: *mut zend_string) -> u64;
    // Zend/zend_API.h: raise the TypeError of an argument of the wrong type.
    pub fn zend_wrong_parameter_error(
        error_code: c_int,
        num: u32,
        name: *mut c_char,
        expected: c_int,
        arg: *mut Zval,
    );
    // main/php_ini.h: the standard "Directive / Local Value / Master Value" table of phpinfo().
    pub fn display_ini_entries(module: *mut ModuleEntry);
}

/// A zval of type string (the low byte of `type_info`).
pub const TYPE_STRING: u32 = IS_STRING;
/// The bits of a zval's `type_info` that hold its type (`Z_TYPE_MASK`, below the type flags).
pub const Z_TYPE_MASK: u32 = (1 << Z_TYPE_FLAGS_SHIFT) - 1;
/// `SUCCESS`, what a start-up, deactivation or `on_modify` handler returns when it did its job.
pub const SUCCESS: c_int = ZEND_RESULT_CODE_SUCCESS;
/// `FAILURE`: PHP refuses the module (start-up) or the new value (`on_modify`).
pub const FAILURE: c_int = ZEND_RESULT_CODE_FAILURE;
/// `Z_EXPECTED_STRING`, from the bindings of the PHP built against.
pub const EXPECTED_STRING: c_int = _zend_expected_type_Z_EXPECTED_STRING as c_int;
/// `ZPP_ERROR_WRONG_ARG` (Zend/zend_API.h); not in the bindings, the same in PHP 8.0 to 8.4.
pub const ZPP_ERROR_WRONG_ARG: c_int = 9;

/// `IS_STR_INTERNED`: PHP's flag of an interned string, which is `GC_IMMUTABLE`.
pub const IS_STR_INTERNED: u32 = GC_IMMUTABLE;
/// `GC_NOT_COLLECTABLE` (Zend/zend_types.h); not in the bindings.
const GC_NOT_COLLECTABLE: u32 = 1 << 4;
/// `IS_STR_PERSISTENT`, which is `GC_PERSISTENT` (Zend/zend_types.h); not in the bindings.
const IS_STR_PERSISTENT: u32 = 1 << 7;
/// `IS_STR_VALID_UTF8` (Zend/zend_types.h); not in the bindings.
const IS_STR_VALID_UTF8: u32 = 1 << 9;
/// The `gc.u.type_info` of a persistent interned string, as PHP makes one for a literal:
/// `GC_STRING | IS_STR_INTERNED | IS_STR_PERSISTENT | IS_STR_VALID_UTF8`.
pub const INTERNED_TYPE_INFO: u32 = IS_STRING
    | ((GC_NOT_COLLECTABLE | IS_STR_INTERNED | IS_STR_PERSISTENT | IS_STR_VALID_UTF8) << GC_FLAGS_SHIFT);

// The flags written by hand must be flags of the PHP built against, disjoint from the type byte
// and from the one the bindings carry: a PHP that moved them fails here, at build time.
const _: () = {
    let written = GC_NOT_COLLECTABLE | IS_STR_PERSISTENT | IS_STR_VALID_UTF8;
    assert!((written | IS_STR_INTERNED) & !(GC_FLAGS_MASK >> GC_FLAGS_SHIFT) == 0);
    assert!(written & IS_STR_INTERNED == 0);
    assert!(IS_STRING < (1 << 4));
};

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
    with_ini_value(name, |value| value.map(<[u8]>::to_vec))
}

/// Calls `f` with the bytes of ini setting `name` in this thread, without a copy (`None` when no
/// such setting is registered).
pub fn with_ini_value<R>(name: &str, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
    let globals = ExecutorGlobals::get();
    // SAFETY: EG(ini_directives) is set up before any request runs and lives until shutdown; a
    // null table (before start-up) reads as no setting.
    let Some(table) = (unsafe { globals.ini_directives.as_ref() }) else { return f(None) };
    let Some(entry) = table.get(name).and_then(|e| {
        // SAFETY: the table stores each entry as a pointer to a live zend_ini_entry (zend_hash_add_ptr).
        unsafe { e.ptr::<zend_ini_entry>()?.as_ref() }
    }) else {
        return f(None);
    };
    // SAFETY: an entry's value is null or a live zend_string holding `len` bytes, for as long as
    // the entry keeps this value: through this call, which changes no setting.
    match unsafe { entry.value.as_ref() } {
        None => f(Some(&[])),
        // SAFETY: as above: `val` holds `len` bytes.
        Some(s) => f(Some(unsafe { std::slice::from_raw_parts(s.val.as_ptr().cast::<u8>(), s.len) })),
    }
}

/// Calls `f` with the environment variable `name` as PHP's `getenv()` reads it (see [`getenv`]),
/// without a copy of our own: what a request reads at its first call.
pub fn with_env<R>(name: &CStr, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
    // SAFETY: `name` is NUL-terminated and valid for its length; sapi_getenv copies what it returns
    // with emalloc (or returns null), and that copy is freed below, once `f` has read it.
    unsafe {
        let value = sapi_getenv(name.as_ptr(), name.to_bytes().len());
        if !value.is_null() {
            let result = f(Some(CStr::from_ptr(value).to_bytes()));
            ext_php_rs::alloc::efree(value.cast());
            return result;
        }
    }
    // SAFETY: as PHP's own getenv() does; the value is read before anything can change the
    // environment (this thread runs no PHP code meanwhile).
    match unsafe { libc::getenv(name.as_ptr()).as_ref() } {
        None => f(None),
        // SAFETY: getenv returns a NUL-terminated string of the process environment.
        Some(value) => f(Some(unsafe { CStr::from_ptr(value) }.to_bytes())),
    }
}

/// The text of a zend_string, lossily decoded; empty for null.
///
/// # Safety
/// `s` is null or points to a live zend_string.
pub unsafe fn zend_str_lossy(s: *const zend_string) -> String {
    // SAFETY: the caller passes null or a live zend_string (see above).
    match unsafe { s.as_ref() } {
        None => String::new(),
        Some(s) => {
            // SAFETY: a zend_string's `val` holds `len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(s.val.as_ptr().cast::<u8>(), s.len) };
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

/// The name of a live ini entry (as PHP hands one to `on_modify`); empty for null.
///
/// # Safety
/// `entry` is null or points to a live zend_ini_entry.
pub unsafe fn ini_entry_name(entry: *const zend_ini_entry) -> String {
    // SAFETY: the caller passes null or a live entry, whose name is a live zend_string.
    unsafe { zend_str_lossy(entry.as_ref().map_or(std::ptr::null(), |e| e.name)) }
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
