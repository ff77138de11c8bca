//! The `keapack` binary: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    keapack::cli::main()
}
