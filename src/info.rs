//! phpinfo(): the version, the settings and the cache state. Never a value.

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use crate::ffi::display_ini_entries;
use crate::{clock, runtime};

/// The `phpinfo()` section of the extension.
pub extern "C" fn php_info(module: *mut ModuleEntry) {
    runtime::guard((), || {
        info_table_start!();
        info_table_row!("pantheon_secrets support", "enabled");
        info_table_row!("version", env!("CARGO_PKG_VERSION"));
        let s = runtime::cache().status(clock::now_ms());
        info_table_row!("backend", s.backend.as_str());
        info_table_row!("environment", s.environment.as_str());
        info_table_row!("secrets held", s.count.to_string().as_str());
        info_table_row!("fetches by this process", s.fetch_count.to_string().as_str());
        info_table_row!("age of values (s)", s.age.map_or("-".into(), |a| format!("{a:.1}")).as_str());
        info_table_row!("stale", if s.stale { "yes" } else { "no" });
        info_table_row!("last error", s.last_error.as_deref().unwrap_or("-"));
        info_table_end!();
        // SAFETY: PHP passes this module's own entry to its info function.
        unsafe { display_ini_entries(module) };
    });
}
