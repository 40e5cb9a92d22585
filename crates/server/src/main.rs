//! `pantheon-secrets`: the service and its CLI.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = secrets_server::cli::Cli::parse();
    match secrets_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[error] {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
