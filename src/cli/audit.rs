//! `crossgov audit keygen|list|read|verify`: the regulator's tools.
//!
//! `list`, `read` and `verify` read the trail from the governance chain (`--rpc-url`, and the
//! Supervision and TransactionManager addresses from the deployment manifest), or from an
//! archive written by `audit list --json` (`--trail FILE`), which `verify` checks against the
//! contract's head. Keys come from encrypted keystores; passwords from an environment variable
//! or a file, never from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;
use clap::{Args, Subcommand};
use crossgov_deploy::manifest::Deployment;
use crossgov_relayer::audit::envelope::{Envelope, address_of, public_key_xy};
use crossgov_relayer::audit::regulator::open_record;
use crossgov_relayer::audit::trail::{ReportedEvent, TrailRecord, fetch_records, reported_events};
use crossgov_relayer::audit::verify::{check, gather};
use crossgov_relayer::keys::{PasswordSource, SignerSource, create_keystore};
use serde_json::{Value, json};

/// `crossgov audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Create a regulator key in an encrypted keystore and print its address and the 64-byte
    /// public key that `admitRegulator` takes.
    Keygen {
        /// The keystore file to create (refused if it exists).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the trail's records: index, block, time, subject, institution, relayer, size and
    /// the operations each covers.
    List {
        #[command(flatten)]
        source: TrailArgs,
        /// Only the records of this transaction or swap id.
        #[arg(long, value_name = "ID")]
        tx: Option<B256>,
        /// Print the records (with envelopes) as JSON: an archive `--trail` reads back.
        #[arg(long)]
        json: bool,
    },
    /// Decrypt records with a regulator key and print them as JSON, each with the governance
    /// transactions that reported its operations.
    Read {
        #[command(flatten)]
        source: TrailArgs,
        /// The regulator's keystore.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Only the records of this transaction or swap id.
        #[arg(long, value_name = "ID")]
        tx: Option<B256>,
    },
    /// Recompute the hash chain and compare it with Supervision's head; check every record (well
    /// formed, covering only what its writer's institution may report, and with --key readable
    /// wherever it names that regulator) and that every governance report is covered by a valid
    /// record of a writer entitled to it. Exit code 1 names every problem and its writer.
    Verify {
        #[command(flatten)]
        source: TrailArgs,
        /// A regulator's keystore: also open every record that names this regulator.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Where the trail comes from.
#[derive(Debug, Args)]
pub struct TrailArgs {
    /// Governance chain JSON-RPC endpoint.
    #[arg(long, hide_env_values = true, env = "CROSSGOV_RPC_URL", value_name = "URL")]
    rpc_url: Option<Url>,
    /// The deployment manifest (addresses and deployment blocks).
    #[arg(long, hide_env_values = true, env = "CROSSGOV_MANIFEST", value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Read the records from this archive (`audit list --json`) instead of the chain's logs.
    #[arg(long, value_name = "FILE")]
    trail: Option<PathBuf>,
    /// Blocks per eth_getLogs request: the node's log-range limit or less.
    #[arg(long, env = "CROSSGOV_MAX_LOG_RANGE", value_name = "BLOCKS", default_value_t = crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE, value_parser = clap::value_parser!(u64).range(1..))]
    max_log_range: u64,
}

/// Where a keystore password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Environment variable holding the keystore password.
    #[arg(long, value_name = "VAR", default_value = "CROSSGOV_KEYSTORE_PASSWORD")]
    password_env: String,
    /// File holding the keystore password (instead of the variable).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl PasswordArgs {
    fn source(&self) -> PasswordSource {
        match &self.password_file {
            Some(f) => PasswordSource::File(f.clone()),
            None => PasswordSource::Env(self.password_env.clone()),
        }
    }
}

/// Runs an `audit` subcommand.
pub fn run(cmd: AuditCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crossgov: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_async(cmd)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("crossgov audit: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_async(cmd: AuditCommand) -> Result<ExitCode, String> {
    match cmd {
        AuditCommand::Keygen { out, password, json } => keygen(&out, &password, json),
        AuditCommand::List { source, tx, json } => list(&source, tx, json).await,
        AuditCommand::Read { source, key, password, tx } => {
            read(&source, &key, &password, tx).await
        }
        AuditCommand::Verify { source, key, password, json } => {
            verify(&source, key.as_deref(), &password, json).await
        }
    }
}

fn keygen(out: &Path, password: &PasswordArgs, json: bool) -> Result<ExitCode, String> {
    let signer = create_keystore(out, &password.source()).map_err(|e| e.to_string())?;
    let secret = secret_of(&signer)?;
    let public = secret.public_key();
    let public_key = format!("0x{}", hex::encode(public_key_xy(&public)));
    let address = address_of(&public);
    if json {
        let v = json!({ "address": address, "publicKey": public_key, "keystore": out });
        println!("{v}");
    } else {
        println!("address    {address}");
        println!("public key {public_key}");
        println!("keystore   {}", out.display());
        eprintln!("Propose Supervision.admitRegulator(publicKey, name) to admit this regulator.");
    }
    Ok(ExitCode::SUCCESS)
}

fn secret_of(signer: &alloy::signers::local::PrivateKeySigner) -> Result<k256::SecretKey, String> {
    k256::SecretKey::from_slice(signer.to_bytes().as_slice()).map_err(|e| e.to_string())
}

/// The governance chain and the manifest, both required unless `--trail` is given.
struct Chain {
    provider: DynProvider,
    deployment: Deployment,
}

fn connect(source: &TrailArgs) -> Result<Chain, String> {
    let url = source
        .rpc_url
        .clone()
        .ok_or("no governance endpoint: pass --rpc-url URL or set CROSSGOV_RPC_URL".to_owned())?;
    let manifest = source.manifest.as_ref().ok_or(
        "no deployment manifest: pass --manifest FILE or set CROSSGOV_MANIFEST".to_owned(),
    )?;
    let deployment = Deployment::read_manifest(manifest).map_err(|e| e.to_string())?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    Ok(Chain { provider, deployment })
}

async fn records(source: &TrailArgs, tx: Option<B256>) -> Result<Vec<TrailRecord>, String> {
    let mut all = match &source.trail {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            serde_json::from_str::<Vec<TrailRecord>>(&text).map_err(|e| {
                format!("{} is not a trail archive (audit list --json): {e}", path.display())
            })?
        }
        None => {
            let chain = connect(source)?;
            let sup = &chain.deployment.supervision;
            fetch_records(&chain.provider, sup.address, sup.block, None, tx, source.max_log_range)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    if let Some(id) = tx {
        all.retain(|r| r.subject == id);
    }
    Ok(all)
}

fn covers_of(r: &TrailRecord) -> String {
    match Envelope::decode(&r.envelope) {
        Ok(env) => env.covers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        Err(e) => format!("(unreadable envelope: {e})"),
    }
}

async fn list(source: &TrailArgs, tx: Option<B256>, json: bool) -> Result<ExitCode, String> {
    let records = records(source, tx).await?;
    if json {
        let text = serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>5} {:>8} {:>11} {:<66} {:>4} {:<42} {:>6}  covers",
        "index", "block", "time", "subject", "inst", "relayer", "bytes"
    );
    for r in &records {
        let time = r.timestamp.map_or_else(|| "-".to_owned(), |t| t.to_string());
        println!(
            "{:>5} {:>8} {:>11} {:<66} {:>4} {:<42} {:>6}  {}",
            r.index,
            r.block,
            time,
            r.subject.to_string(),
            r.institution,
            r.relayer.to_string(),
            r.envelope.len(),
            covers_of(r)
        );
    }
    eprintln!("{} records", records.len());
    Ok(ExitCode::SUCCESS)
}

async fn read(
    source: &TrailArgs,
    key: &Path,
    password: &PasswordArgs,
    tx: Option<B256>,
) -> Result<ExitCode, String> {
    let signer = SignerSource::Keystore { path: key.to_path_buf(), password: password.source() }
        .load()
        .map_err(|e| e.to_string())?;
    let secret = secret_of(&signer)?;
    let records = records(source, tx).await?;
    if records.is_empty() {
        return Err(match tx {
            Some(id) => format!("no audit record about {id}"),
            None => "the trail is empty".into(),
        });
    }
    // Governance transactions that reported each covered operation (chain only).
    let events: Vec<(B256, ReportedEvent)> = match (&source.trail, connect(source)) {
        (None, Ok(chain)) => {
            let tm = &chain.deployment.transaction_manager;
            let head = chain.provider.get_block_number().await.map_err(|e| e.to_string())?;
            reported_events(&chain.provider, tm.address, tx, tm.block, head, source.max_log_range)
                .await
                .map_err(|e| e.to_string())?
        }
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    let mut failed = 0usize;
    for r in &records {
        match open_record(r, &secret) {
            Ok(record) => {
                let reported: Vec<Value> = record
                    .covers()
                    .iter()
                    .map(|c| {
                        let ev = events.iter().find(|(s, e)| *s == r.subject && e.key == *c);
                        json!({
                            "covers": c,
                            "event": c.kind.event_name(),
                            "txHash": ev.map(|(_, e)| e.tx_hash),
                            "block": ev.map(|(_, e)| e.block),
                        })
                    })
                    .collect();
                out.push(json!({
                    "index": r.index,
                    "block": r.block,
                    "txHash": r.tx_hash,
                    "time": r.timestamp,
                    "subject": r.subject,
                    "institution": r.institution,
                    "relayer": r.relayer,
                    "record": record,
                    "reportedBy": reported,
                }));
            }
            Err(e) => {
                failed += 1;
                eprintln!("crossgov audit read: {e}");
            }
        }
    }
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    println!("{text}");
    if failed > 0 {
        eprintln!(
            "crossgov audit read: {failed} of {} records could not be read with the key of {}",
            records.len(),
            signer.address()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(
    source: &TrailArgs,
    key: Option<&Path>,
    password: &PasswordArgs,
    json: bool,
) -> Result<ExitCode, String> {
    let secret = match key {
        Some(path) => {
            let signer =
                SignerSource::Keystore { path: path.to_path_buf(), password: password.source() }
                    .load()
                    .map_err(|e| e.to_string())?;
            Some(secret_of(&signer)?)
        }
        None => None,
    };
    let chain = connect(source)?;
    let sources = crossgov_relayer::audit::verify::TrailSources {
        max_log_range: source.max_log_range,
        ..chain.deployment.trail_sources()
    };
    // Head, count, records and reports are read at one block, so a record landing meanwhile
    // cannot confuse them.
    let mut facts =
        gather(&chain.provider, &sources, None, None).await.map_err(|e| e.to_string())?;
    if source.trail.is_some() {
        facts.records = records(source, None).await?;
    }
    let report = check(&facts, secret.as_ref(), true);
    if json {
        let v = json!({
            "ok": report.ok(),
            "block": report.block,
            "records": report.records,
            "reports": report.reports,
            "head": facts.head,
            "chainBreak": report.chain.as_ref().err(),
            "findings": report.findings,
            "uncovered": report.uncovered,
            "orphans": report.orphans,
            "keyChecked": secret.as_ref().map(|k| address_of(&k.public_key())),
        });
        println!("{v}");
    } else {
        match &report.chain {
            Ok(h) => println!(
                "hash chain: ok, {} records, head {h} (block {})",
                report.records, report.block
            ),
            Err(b) => println!("hash chain: BROKEN: {b}"),
        }
        if report.findings.is_empty() {
            let how = if secret.is_some() { ", each readable with the key" } else { "" };
            println!("records: ok, each from a writer entitled to what it covers{how}");
        }
        for f in &report.findings {
            println!("record: {f}");
        }
        if report.uncovered.is_empty() {
            println!(
                "coverage: ok, {} governance reports, all audited by their reporters",
                report.reports
            );
        }
        for g in &report.uncovered {
            println!(
                "coverage: {} of {} (tx {}) has no valid record from a writer entitled to it",
                g.event, g.subject, g.tx_hash
            );
        }
        if !report.orphans.is_empty() {
            println!(
                "note: {} records are about subjects with no governance report (written ahead of a report that never came, or noise; --json lists them)",
                report.orphans.len()
            );
        }
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
