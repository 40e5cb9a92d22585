//! The ini settings (ARCHITECTURE §5). PHP keeps their values, per thread under ZTS; the extension
//! reads them from PHP's own table when it needs a configuration, never from a copy of its own.
//! Each change (start-up, php.ini, per directory or pool, `ini_set()`, and the restore at the end
//! of a request) passes through `on_modify`, which refuses a bad value and bumps a generation
//! counter: the hit path compares one integer to learn that settings may have changed.

use std::ffi::{c_int, c_void};
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
    // A flag switches a PHP function on or off; the configuration does not read it.
    for name in ini::SETTINGS.iter().filter(|s| s.kind != Kind::Flag).map(|s| s.name) {
        let value = ffi::ini_value(name).unwrap_or_default();
        if name == ini::BACKEND {
            empty[0] = value.iter().all(u8::is_ascii_whitespace);
        }
        if name == ini::ENVIRONMENT {
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
