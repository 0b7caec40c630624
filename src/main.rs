//! The `mkopo` binary: parse the command line and hand over to the library.

use clap::Parser;

/// mimalloc rather than the system allocator: a hop allocates many small short-lived buffers (bodies,
/// JSON, keys), and glibc malloc/free were about a tenth of the gateway's CPU in load profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
