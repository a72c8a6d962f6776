//! `fedkit`: the fedkit command line (the code is in the library target, `src/lib.rs`).

fn main() -> std::process::ExitCode {
    fedkit_cli::main()
}
