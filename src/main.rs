//! The `crossgov` command line; everything lives in the library's [`crossgov::cli`].

fn main() -> std::process::ExitCode {
    crossgov::cli::main()
}
