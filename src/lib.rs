//! crossgov's command line (`crossgov …`): argument parsing and one module per subcommand group
//! in [`cli`]. The logic lives in the `crossgov-relayer` and `crossgov-deploy` crates.

pub mod bench;
pub mod chaos;
pub mod cli;
