//! `crossgov-chaos`: randomized fault trials; everything lives in [`crossgov::chaos`].

fn main() -> std::process::ExitCode {
    crossgov::chaos::main()
}
