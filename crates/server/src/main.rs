//! `pantheon-secrets`: the service and its CLI.
#![warn(clippy::undocumented_unsafe_blocks)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    if let Err(e) = keep_out_of_core_dumps() {
        eprintln!("[error] cannot keep this process out of core dumps: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = secrets_server::cli::Cli::parse();
    match secrets_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[error] {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every command holds the master key, values or tokens in memory: before anything is read, the
/// process is made non-dumpable (no core file, no `ptrace` or `/proc/PID/mem` by other processes
/// of the same user) and its core size limit, soft and hard, is set to 0.
fn keep_out_of_core_dumps() -> std::io::Result<()> {
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) passes no pointers and changes only this process's flag.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit only reads the struct, which lives on this stack frame for the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_out_of_core_dumps_not_dumpable_and_no_core_limit() {
        keep_out_of_core_dumps().unwrap();
        // SAFETY: PR_GET_DUMPABLE passes no pointers and only reads this process's flag.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
        let mut limit = libc::rlimit { rlim_cur: 1, rlim_max: 1 };
        // SAFETY: getrlimit writes into the struct, which lives on this stack frame for the call.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) }, 0);
        assert_eq!((limit.rlim_cur, limit.rlim_max), (0, 0));
    }
}
