//! `crossgov-bench`: the benchmarks; everything lives in [`crossgov::bench`].

fn main() -> std::process::ExitCode {
    crossgov::bench::main()
}
