//! `pantheon_get_secret(string $name): ?string` (ARCHITECTURE §4.1), the hit path.
//!
//! Written as a raw handler rather than with `#[php_function]` because it is the one function
//! called on every request, many times: it reads its argument in place, looks it up with the hash
//! PHP already keeps in the string, and allocates only the returned string, as `ini_get()` does.

use ext_php_rs::args::Arg;
use ext_php_rs::builders::FunctionBuilder;
use ext_php_rs::ffi::{zend_string, zend_wrong_parameters_count_error};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendStr, Zval};
use ext_php_rs::zend::ExecuteData;
use secrets_core::validate::check_name;

use crate::ffi::{
    zend_parse_arg_str_slow, zend_string_hash_func, zend_wrong_parameter_error, EXPECTED_STRING, TYPE_STRING,
    ZPP_ERROR_WRONG_ARG, Z_TYPE_MASK,
};
use crate::hot::{Found, Hot};
use crate::{clock, runtime};

/// The function as PHP sees it.
pub fn function() -> FunctionBuilder<'static> {
    FunctionBuilder::new("pantheon_get_secret", handler).arg(Arg::new("name", DataType::String)).returns(
        DataType::String,
        false,
        true,
    )
}

extern "C" fn handler(ex: &mut ExecuteData, retval: &mut Zval) {
    runtime::guard((), || get(ex, retval));
}

#[inline]
fn get(ex: &mut ExecuteData, retval: &mut Zval) {
    let Some(name) = argument(ex) else { return };
    // SAFETY: `name` points to the argument's zend_string, alive for the whole call. PHP keeps
    // the hash in the string (literals have it already); when it is not there yet, PHP's own
    // function computes and keeps it, as `zend_string_hash_val` does.
    let (hash, bytes) = unsafe {
        let hash = match (*name).h {
            0 => zend_string_hash_func(name),
            h => h,
        };
        (hash, std::slice::from_raw_parts((*name).val.as_ptr().cast::<u8>(), (*name).len))
    };
    let cache = runtime::cache();
    // SAFETY: the borrow ends before the warning, which may re-enter PHP.
    let hot = unsafe { Hot::get() };
    let now = if clock::per_call() { clock::now_ms() } else { hot.request_time() };
    if let Some(warning) = hot.catch_up(cache, now) {
        runtime::warn(&warning);
    }
    // SAFETY: nothing below re-enters PHP while the state is borrowed.
    let found = match unsafe { Hot::get() }.find(name, hash, bytes) {
        Found::Interned(s) => {
            // An interned string is not reference-counted: the zval just points to it
            // (IS_INTERNED_STRING_EX, as ZVAL_INTERNED_STR does).
            retval.value.str_ = s;
            retval.u1.type_info = TYPE_STRING;
            true
        }
        Found::Copy(ptr, len) => {
            // SAFETY: the value lives in the reader's snapshot for the whole call.
            retval.set_zend_string(ZendStr::new(unsafe { std::slice::from_raw_parts(ptr, len) }, false));
            true
        }
        Found::Missing => false,
    };
    if !found {
        if let Err(reason) = check_name(bytes) {
            runtime::warn(&format!("Argument #1 ($name) is not a valid secret name: {reason}"));
        }
    }
}

/// The one string argument, coerced as PHP coerces a `string` parameter; `None` after PHP raised
/// the TypeError or ArgumentCountError.
#[inline]
fn argument(ex: &mut ExecuteData) -> Option<*mut zend_string> {
    // SAFETY: `This.u2.num_args` is the argument count of the frame PHP hands us.
    let count = unsafe { ex.This.u2.num_args };
    if count != 1 {
        // SAFETY: called from inside an internal function's frame, as the function expects.
        unsafe { zend_wrong_parameters_count_error(1, 1) };
        return None;
    }
    // SAFETY: with one argument, slot 0 of the frame holds it.
    let arg = unsafe { ex.zend_call_arg(0) }?;
    // SAFETY: every zval's type_info is initialised; for IS_STRING the union holds a zend_string.
    if unsafe { arg.u1.type_info } & Z_TYPE_MASK == TYPE_STRING {
        // SAFETY: the type is IS_STRING, checked just above.
        return Some(unsafe { arg.value.str_ });
    }
    let mut coerced: *mut zend_string = std::ptr::null_mut();
    // SAFETY: `arg` is the live argument slot; PHP writes a string it owns into `coerced` (the
    // coerced value replaces the argument in its slot, so it lives as long as the frame).
    if unsafe { zend_parse_arg_str_slow(arg, &mut coerced, 1) } && !coerced.is_null() {
        return Some(coerced);
    }
    // SAFETY: reports the wrong type for argument 1, as zpp does; raises TypeError.
    unsafe { zend_wrong_parameter_error(ZPP_ERROR_WRONG_ARG, 1, std::ptr::null_mut(), EXPECTED_STRING, arg) };
    None
}
