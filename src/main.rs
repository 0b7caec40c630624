//! The `mkopo` binary: parse the command line and hand over to the library.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    match mkopo::cli::run(mkopo::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mkopo: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
