//! The ini settings (ARCHITECTURE §5). PHP keeps their values, per thread under ZTS; the extension
//! reads them from PHP's own table when it needs a configuration, never from a copy of its own.
//! Each change (start-up, php.ini, per directory or pool, `ini_set()`, and the restore at the end
//! of a request) passes through `on_modify`, which refuses a bad value and bumps a generation
//! counter: the hit path compares one integer to learn that settings may have changed.

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};
use secrets_runtime::config::{ini, valid_setting, Config, ENVIRONMENT_ENV, FAKE_FILE_ENV};

use crate::ffi;

static GENERATION: AtomicU64 = AtomicU64::new(0);

const fn entry(name: &'static CStr, default: &'static CStr, permission: IniEntryPermission) -> IniEntryDef {
    IniEntryDef { on_modify: Some(on_modify), ..IniEntryDef::new(name, default, permission) }
}

/// Where a path setting may be set: php.ini, `-d`, or per directory or pool (FPM's `php_value`,
/// Apache's `php_value`, `.user.ini`), never by `ini_set()` (ARCHITECTURE §5): a site's code must not
/// point the extension at another site's file. A file backend also obeys `open_basedir`.
const PER_DIRECTORY: IniEntryPermission = IniEntryPermission::System.union(IniEntryPermission::PerDir);

/// The table PHP reads; names and defaults match `secrets_runtime::config::ini::DEFAULTS`. The identity
/// files stay system-level (php.ini, `-d`, FPM's `php_admin_value`): `.user.ini` is per directory
/// too, and is written by the site.
static ENTRIES: IniEntryDefs<12> = IniEntryDefs::new([
    entry(c"pantheon_secrets.backend", c"", PER_DIRECTORY),
    entry(c"pantheon_secrets.environment", c"", IniEntryPermission::All),
    entry(c"pantheon_secrets.ttl", c"900", IniEntryPermission::All),
    entry(c"pantheon_secrets.stale_limit", c"86400", IniEntryPermission::All),
    entry(c"pantheon_secrets.backoff_max", c"300", IniEntryPermission::All),
    entry(c"pantheon_secrets.client_cert", c"", IniEntryPermission::System),
    entry(c"pantheon_secrets.client_key", c"", IniEntryPermission::System),
    entry(c"pantheon_secrets.ca_file", c"", IniEntryPermission::System),
    entry(c"pantheon_secrets.connect_timeout_ms", c"1000", IniEntryPermission::All),
    entry(c"pantheon_secrets.timeout_ms", c"3000", IniEntryPermission::All),
    entry(c"pantheon_secrets.allow_mock", c"0", IniEntryPermission::System),
    IniEntryDef::end(),
]);

/// Module start-up: registers the settings and the exception class. Nothing is read or fetched here.
pub unsafe extern "C" fn startup(_ty: i32, module_number: i32) -> i32 {
    IniEntryDef::register(ENTRIES.as_slice(), module_number);
    match crate::exception::register() {
        Ok(()) => ffi::SUCCESS,
        Err(_) => ffi::FAILURE, // PHP refuses to start the module rather than run without its class.
    }
}

/// The generation of the settings: it changes whenever any setting does, in any thread.
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The current value of a setting in this thread.
pub fn value(name: &str) -> String {
    ffi::ini_value(name).map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default()
}

/// A boolean setting, read as PHP reads one ("1", "on", "yes", "true").
pub fn flag(name: &str) -> bool {
    matches!(value(name).trim().to_ascii_lowercase().as_str(), "1" | "on" | "yes" | "true")
}

/// This thread's settings and the environment PHP's `getenv()` sees, read into a configuration.
pub fn config() -> Config {
    Config::read(|name| Some(value(name)), ffi::getenv)
}

/// Writes into `out` everything [`config`] depends on, as bytes: two reads that write the same bytes
/// make the same configuration, so a request can learn its settings did not change without
/// building one. The environment is read only where a setting leaves it in charge.
pub fn fingerprint(out: &mut Vec<u8>) {
    out.clear();
    let mut push = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    let mut empty = [false; 2];
    for (name, _) in ini::DEFAULTS {
        let value = ffi::ini_value(name).unwrap_or_default();
        if *name == ini::BACKEND {
            empty[0] = value.iter().all(u8::is_ascii_whitespace);
        }
        if *name == ini::ENVIRONMENT {
            empty[1] = value.iter().all(u8::is_ascii_whitespace);
        }
        push(&value);
    }
    for (var, needed) in [(FAKE_FILE_ENV, empty[0]), (ENVIRONMENT_ENV, empty[1])] {
        match needed.then(|| ffi::getenv(var)).flatten() {
            Some(value) => push(value.as_bytes()),
            None => push(b"\xff-unset"),
        }
    }
}

/// PHP's `on_modify` handler for every setting: refuse a bad number, bump the generation (PHP
/// keeps the value).
unsafe extern "C" fn on_modify(
    entry: *mut zend_ini_entry,
    new_value: *mut zend_string,
    _: *mut c_void,
    _: *mut c_void,
    _: *mut c_void,
    _stage: c_int,
) -> c_int {
    // SAFETY: PHP passes its live ini entry and the new value (or null); both outlive this call.
    let (name, value) = unsafe { (ffi::ini_entry_name(entry), ffi::zend_str_lossy(new_value)) };
    if !valid_setting(&name, &value) {
        return ffi::FAILURE; // PHP keeps the old value and ini_set() returns false.
    }
    GENERATION.fetch_add(1, Ordering::AcqRel);
    ffi::SUCCESS
}
