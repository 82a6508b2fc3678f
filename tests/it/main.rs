//! End-to-end tests of crossgov against real local chains: each test starts its own anvil (the
//! pinned binary from `node_modules`, on an OS-chosen port) and deploys the governance suite from
//! the committed artifacts. Shared setup lives in [`harness`]. [`cross_chain`] runs three anvils
//! per test (the governance chain and two business chains) through 2PC and HTLC scenarios;
//! [`chaos`] runs a fixed set of the randomized fault trials of `make chaos`.

mod admission;
mod adversarial;
mod audit;
mod bad_input;
mod chaos;
mod cli;
mod consortium;
mod cross_chain;
mod harness;
mod relayer_2pc;
mod relayer_api;
mod relayer_htlc;
mod second_node;
