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
use secrets_runtime::config::{
    ini, valid_setting, Changeable, Config, Kind, Setting, ENVIRONMENT_ENV, FAKE_FILE_ENV,
};

use crate::ffi;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// PHP's entry for one setting of the table, with `on_modify` checking every change.
const fn entry(setting: &Setting) -> IniEntryDef {
    let permission = match setting.changeable {
        Changeable::System => IniEntryPermission::System,
        Changeable::PerDirectory => IniEntryPermission::System.union(IniEntryPermission::PerDir),
        Changeable::All => IniEntryPermission::All,
    };
    IniEntryDef {
        on_modify: Some(on_modify),
        ..IniEntryDef::new(setting.c_name, setting.c_default, permission)
    }
}

/// The entries PHP registers (and keeps for the life of the process): one per setting of
/// `ini::SETTINGS`, which says who may change each (ARCHITECTURE §5), and the end marker.
static ENTRIES: IniEntryDefs<{ ini::SETTINGS.len() + 1 }> = IniEntryDefs::new(entries());

const fn entries() -> [IniEntryDef; ini::SETTINGS.len() + 1] {
    const END: IniEntryDef = IniEntryDef::end();
    let mut out = [END; ini::SETTINGS.len() + 1];
    let mut at = 0;
    while at < ini::SETTINGS.len() {
        out[at] = entry(&ini::SETTINGS[at]);
        at += 1;
    }
    out
}

/// Module start-up: registers the settings and the exception class, and tells the clock which SAPI
/// this is. Nothing is read or fetched here.
pub unsafe extern "C" fn startup(_ty: i32, module_number: i32) -> i32 {
    IniEntryDef::register(ENTRIES.as_slice(), module_number);
    crate::clock::startup(&ffi::sapi_name());
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

/// Which environment variables the settings leave in charge: the fake file when the backend is
/// empty, `PANTHEON_ENVIRONMENT` when the environment setting is.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct EnvironmentRead {
    fake_file: bool,
    environment: bool,
}

/// Writes into `settings` and `environment` everything [`config`] depends on, as bytes: two reads
/// that write the same bytes make the same configuration, so a request can learn its settings did
/// not change without building one. The environment is read only where a setting leaves it in
/// charge; which variables that is comes back, for [`environment_fingerprint`].
pub fn fingerprint(settings: &mut Vec<u8>, environment: &mut Vec<u8>) -> EnvironmentRead {
    settings.clear();
    let mut read = EnvironmentRead::default();
    // A flag switches a PHP function on or off; the configuration does not read it.
    for name in ini::SETTINGS.iter().filter(|s| s.kind != Kind::Flag).map(|s| s.name) {
        ffi::with_ini_value(name, |value| {
            let value = value.unwrap_or_default();
            if name == ini::BACKEND {
                read.fake_file = value.iter().all(u8::is_ascii_whitespace);
            }
            if name == ini::ENVIRONMENT {
                read.environment = value.iter().all(u8::is_ascii_whitespace);
            }
            push(settings, Some(value));
        });
    }
    environment_fingerprint(read, environment);
    read
}

/// The environment part of [`fingerprint`] alone: what a request re-reads when no setting changed
/// since the last check (the environment has no change hook: a FastCGI parameter or Apache's
/// `SetEnv` may differ from one request to the next).
pub fn environment_fingerprint(read: EnvironmentRead, out: &mut Vec<u8>) {
    out.clear();
    for (var, needed) in [(FAKE_FILE_ENV_C, read.fake_file), (ENVIRONMENT_ENV_C, read.environment)] {
        if needed {
            ffi::with_env(var, |value| push(out, value));
        } else {
            push(out, None);
        }
    }
}

/// Appends `value` to a fingerprint, its length first; `None` (unset) as no value can be.
fn push(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&u64::MAX.to_le_bytes()),
    }
}

/// The environment variables of `secrets_runtime::config`, NUL-terminated for PHP's `sapi_getenv`.
const FAKE_FILE_ENV_C: &CStr = c"CUSTOMER_SECRETS_FAKE_FILE";
const ENVIRONMENT_ENV_C: &CStr = c"PANTHEON_ENVIRONMENT";
const _: () = assert!(same(FAKE_FILE_ENV_C, FAKE_FILE_ENV) && same(ENVIRONMENT_ENV_C, ENVIRONMENT_ENV));

const fn same(c: &CStr, s: &str) -> bool {
    let (a, b) = (c.to_bytes(), s.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
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
