//! The `crossgov` binary: `relayer check-config` on the reference config and on broken ones, and
//! `relayer run` as a child process against anvil (ready on `/health`, stopped by SIGTERM).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use crossgov_relayer::config::{ChainConfig, Config, ContractsConfig};
use serde_json::Value;

use crate::harness::{WAIT, wait_for};
use crate::relayer_api::{ApiNet, Client, RELAYER};

const BIN: &str = env!("CARGO_BIN_EXE_crossgov");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/relayer.example.toml");
/// The variable the reference config names for the raw key.
const KEY_ENV: &str = "CROSSGOV_RELAYER_KEY";
/// A dev key (anvil's second) for configs that are only checked.
const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn crossgov(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove(KEY_ENV);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run crossgov")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_config_accepts_the_reference_file() {
    let out = crossgov(&["relayer", "check-config", "--config", EXAMPLE], &[(KEY_ENV, DEV_KEY)]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains(": ok"), "{}", stdout(&out));
    // The key is not echoed anywhere.
    assert!(!stdout(&out).contains(&DEV_KEY[2..]));
}

#[test]
fn check_config_reports_every_problem_and_fails() {
    // Without the variable the reference file names, the signer problem is reported.
    let out = crossgov(&["relayer", "check-config", "--config", EXAMPLE, "--json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["kind"], "signer", "{report}");
    assert!(report["problems"][0]["message"].as_str().is_some_and(|m| m.contains(KEY_ENV)));

    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(EXAMPLE)
        .expect("example")
        .replace("zone = \"zoneB\"", "zone = \"zone.B\"")
        .replace("rpc_url = \"http://127.0.0.1:8547\"", "rpc_url = \"ws://127.0.0.1:8547\"")
        .replace("confirmations = 2", "confirmations = 0")
        .replace("# manifest = ", "manifest = ");
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, text).expect("write");
    let out = crossgov(
        &["relayer", "check-config", "--config", path.to_str().expect("utf-8")],
        &[(KEY_ENV, DEV_KEY)],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "chains[1].zone",
        "chains[1].rpc_url",
        "chains[1].confirmations",
        "not both",
        "4 problem(s)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    // An unknown key is named.
    std::fs::write(
        &path,
        std::fs::read_to_string(EXAMPLE)
            .expect("example")
            .replace("[http]\n", "[http]\nport = 1\n"),
    )
    .expect("write");
    let out = crossgov(
        &["relayer", "check-config", "--config", path.to_str().expect("utf-8")],
        &[(KEY_ENV, DEV_KEY)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("unknown field `port`"), "{}", stdout(&out));
}

/// The bad-input rows for the chain-tuning keys: each broken file fails `check-config` with the
/// key named.
#[test]
fn check_config_names_bad_fee_and_log_range_keys() {
    let example = std::fs::read_to_string(EXAMPLE).expect("example");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relayer.toml");
    let rows: [(&str, String, &[&str]); 5] = [
        (
            "unknown fee mode",
            example.replacen("fee_mode = \"auto\"", "fee_mode = \"cheap\"", 1),
            &["governance.fee_mode", "\"cheap\" is not a fee mode"],
        ),
        (
            "negative gas price",
            example.replacen("# gas_price_wei = 0", "gas_price_wei = -1", 1),
            &["gas_price_wei"],
        ),
        (
            "zero log range",
            example.replacen("max_log_range = 1000", "max_log_range = 0", 1),
            &["governance.max_log_range must be at least 1"],
        ),
        (
            "fixed without a price",
            example.replacen("fee_mode = \"auto\"", "fee_mode = \"fixed\"", 1),
            &["governance.fee_mode = \"fixed\" needs gas_price_wei"],
        ),
        (
            "a price without fixed",
            example.replacen("# gas_price_wei = 0", "gas_price_wei = 0", 2),
            &["governance.gas_price_wei", "chains[0].gas_price_wei"],
        ),
    ];
    for (name, text, needles) in rows {
        assert_ne!(text, example, "{name}: the row changed nothing");
        std::fs::write(&path, &text).expect("write");
        let out = crossgov(
            &["relayer", "check-config", "--config", path.to_str().expect("utf-8")],
            &[(KEY_ENV, DEV_KEY)],
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        for needle in needles {
            assert!(
                stdout(&out).contains(needle),
                "{name}: missing {needle:?} in\n{}",
                stdout(&out)
            );
        }
    }
}

/// The reference config with the net's URLs and addresses, serving zoneA.chainA only.
fn config_for(net: &ApiNet, dir: &Path) -> std::path::PathBuf {
    let mut config =
        Config::parse(&std::fs::read_to_string(EXAMPLE).expect("example")).expect("parse");
    let d = &net.gov.deployment;
    config.state_dir = dir.join("state");
    config.governance.rpc_url = net.gov.anvil.endpoint_url().to_string();
    config.governance.chain_id = Some(d.chain_id);
    config.governance.poll_interval_ms = 50;
    config.governance.reconcile_every_blocks = 1;
    config.governance.contracts = Some(ContractsConfig {
        institution_registry: d.institution_registry.address,
        chain_registry: d.chain_registry.address,
        permission_manager: d.permission_manager.address,
        transaction_manager: d.transaction_manager.address,
        supervision: d.supervision.address,
    });
    let chain: &mut ChainConfig = &mut config.chains[0];
    chain.rpc_url = net.a.anvil.endpoint_url().to_string();
    chain.resources = [
        ("ledger".to_owned(), net.a.resources.xa_ledger.address),
        ("htlc".to_owned(), net.a.resources.htlc_asset.address),
    ]
    .into();
    config.chains.truncate(1);
    let path = dir.join("relayer.toml");
    std::fs::write(&path, toml::to_string(&config).expect("serialize")).expect("write");
    path
}

/// `check-config --live` connects to every node as `run` would and reports each; a node that
/// cannot serve the configured fee mode fails it, naming the setting. Nothing is sent.
#[tokio::test(flavor = "multi_thread")]
async fn check_config_live_reports_each_node() {
    use alloy::providers::Provider;
    let net = ApiNet::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config_for(&net, dir.path());
    let key = B256::from(net.gov.accounts[RELAYER].signer.to_bytes()).to_string();
    let live = |path: &Path, json: bool| {
        let mut args = vec!["relayer", "check-config", "--live", "--config"];
        args.push(path.to_str().expect("utf-8"));
        if json {
            args.push("--json");
        }
        tokio::task::block_in_place(|| crossgov(&args, &[(KEY_ENV, &key)]))
    };
    let relayer = net.gov.address(RELAYER);
    let nonce = net.gov_provider().get_transaction_count(relayer).await.expect("nonce");

    let out = live(&path, false);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    for needle in ["governance: chain id", "zoneA.chainA: chain id 2101, fees eip1559"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    // The governance node, seen through a proxy, without eth_feeHistory; fee_mode = "eip1559".
    let proxy =
        crossgov::chaos::proxy::RpcProxy::start(net.gov.anvil.endpoint_url()).await.expect("proxy");
    proxy.refuse_method("eth_feeHistory");
    let mut config = Config::load(&path).expect("config");
    config.governance.rpc_url = proxy.url().to_string();
    config.governance.fee_mode = "eip1559".into();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, toml::to_string(&config).expect("serialize")).expect("write");
    let out = live(&broken, true);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"], serde_json::json!([]), "the file itself is valid");
    let gov = &report["live"][0];
    assert_eq!(gov["chain"], "governance");
    assert_eq!(gov["permanent"], true, "{report}");
    let error = gov["error"].as_str().unwrap_or_default();
    assert!(error.contains("eth_feeHistory") && error.contains("fee_mode"), "{report}");
    assert!(report["live"][1]["error"].is_null(), "chain A is fine: {report}");
    assert_eq!(
        net.gov_provider().get_transaction_count(relayer).await.expect("nonce"),
        nonce,
        "check-config sent something"
    );
}

/// Kills the child if the test fails before it exits.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[tokio::test]
async fn relayer_run_serves_health_and_stops_on_sigterm() {
    let net = ApiNet::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config_for(&net, dir.path());
    let key = B256::from(net.gov.accounts[RELAYER].signer.to_bytes()).to_string();
    let check = crossgov(
        &["relayer", "check-config", "--config", path.to_str().expect("utf-8")],
        &[(KEY_ENV, &key)],
    );
    assert!(check.status.success(), "{}", stdout(&check));

    let child = Command::new(BIN)
        .args(["relayer", "run", "--config", path.to_str().expect("utf-8"), "--log", "info"])
        .env(KEY_ENV, &key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crossgov relayer run");
    let mut child = Reaper(child);
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.0.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = child.0.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });

    let started: Value =
        serde_json::from_str(&rx.recv_timeout(WAIT).expect("the started line")).expect("JSON line");
    assert_eq!(started["event"], "started", "{started}");
    assert_eq!(started["account"], serde_json::json!(net.gov.address(RELAYER)));
    let client = Client::new(started["http"].as_str().expect("http").parse().expect("addr"));
    let health = wait_for("/health to be 200", || async {
        let (status, body) = client.get("/health").await;
        (status == 200).then_some(body)
    })
    .await;
    let names: Vec<&str> = health["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["governance", "zoneA.chainA"], "{health}");

    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let started_at = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(started_at.elapsed() < WAIT, "the relayer did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let logs = logs.join().unwrap_or_default();
    assert!(status.success(), "exit {status}; logs:\n{logs}");
    let stopped: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).expect("the stopped line"))
            .expect("JSON");
    assert_eq!(stopped["event"], "stopped");
    assert_eq!(stopped["signal"], "SIGTERM");
    assert!(!logs.contains(&key[2..]), "the key was logged");
}

/// The relayer reads the manifest `crossgov_deploy` writes (it reads it by shape, since the deploy
/// crate depends on the relayer crate): a config naming it resolves to the manifest's addresses
/// and chain id.
#[test]
fn config_reads_the_deploy_manifest() {
    use alloy::primitives::Address;
    use crossgov_deploy::{DeployedContract, Deployment};

    let contract = |n: u8| DeployedContract {
        address: Address::repeat_byte(n),
        block: u64::from(n),
        tx_hash: B256::repeat_byte(n),
        deployed_bytecode_hash: B256::repeat_byte(n + 10),
    };
    let deployment = Deployment {
        chain_id: 4242,
        institution_registry: contract(1),
        chain_registry: contract(2),
        permission_manager: contract(3),
        transaction_manager: contract(4),
        supervision: contract(5),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    deployment.write_manifest(dir.path().join("deployment.json")).expect("write manifest");
    let text = std::fs::read_to_string(EXAMPLE)
        .expect("example")
        .replace("# manifest = ", "manifest = ")
        .replace("chain_id = 31337\n", "")
        .replace(
            "private_key_env = \"CROSSGOV_RELAYER_KEY\"",
            "keystore = \"key.json\"\npassword_file = \"password\"",
        );
    let start = text.find("[governance.contracts]").expect("contracts table");
    let end = text[start..].find("\n\n").expect("end of table") + start;
    let text = format!("{}{}", &text[..start], &text[end..]);
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, text).expect("write");
    // Only checked for shape here (never decrypted by validation).
    std::fs::write(dir.path().join("key.json"), r#"{"crypto": {}}"#).expect("write");
    std::fs::write(dir.path().join("password"), "pw\n").expect("write");
    let resolved = Config::load_resolved(&path).expect("valid config");
    assert_eq!(resolved.governance.chain_id, Some(4242));
    let c = resolved.governance.contracts;
    assert_eq!(
        [
            c.institution_registry,
            c.chain_registry,
            c.permission_manager,
            c.transaction_manager,
            c.supervision
        ],
        [1, 2, 3, 4, 5].map(Address::repeat_byte)
    );
    let settings = resolved.settings();
    assert_eq!(settings.governance.contracts.registry, Address::repeat_byte(1));
    assert_eq!(settings.chains.len(), 2);
}

/// `relayer run` with a keystore and a wrong password exits 1 with a clear message that contains
/// neither the password nor the key, before contacting any chain.
#[test]
fn relayer_run_refuses_a_wrong_keystore_password() {
    use alloy::signers::k256::elliptic_curve::rand_core::OsRng;
    use alloy::signers::local::PrivateKeySigner;

    let dir = tempfile::tempdir().expect("tempdir");
    let key: B256 = DEV_KEY.parse().expect("key");
    PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut OsRng,
        key,
        "right password",
        Some("key.json"),
    )
    .expect("keystore");
    let wrong = "wrong-password-123";
    std::fs::write(dir.path().join("password"), wrong).expect("write");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replace(
        "private_key_env = \"CROSSGOV_RELAYER_KEY\"",
        "keystore = \"key.json\"\npassword_file = \"password\"",
    );
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, text).expect("write");
    let path = path.to_str().expect("utf-8");

    let check = crossgov(&["relayer", "check-config", "--config", path], &[]);
    assert!(check.status.success(), "{}", stdout(&check));
    let out = crossgov(&["relayer", "run", "--config", path], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot decrypt keystore"), "{stderr}");
    let all = format!("{}{stderr}", stdout(&out));
    assert!(!all.contains(wrong) && !all.contains(&DEV_KEY[2..]), "{all}");
}

/// `crossgov demo` runs every scenario against its own three anvils and exits 0 with the summary.
#[test]
fn demo_runs_to_completion() {
    let child = Command::new(BIN)
        .args(["demo", "--step-timeout-secs", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crossgov demo");
    let mut child = Reaper(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "the demo did not finish in 240 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.0.stdout.take().expect("stdout"), &mut out);
    let _ = std::io::Read::read_to_string(&mut child.0.stderr.take().expect("stderr"), &mut err);
    assert!(status.success(), "exit {status}\n{out}\n{err}");
    for needle in [
        "committed: alice 1000 → 900 on chain A, bob 1000 → 1100 on chain B",
        "aborted: chain A refused prepare",
        "closed: bob received 100 on chain A's asset, alice 50 on chain B's",
        "(Bank A's second relayer), from chain state alone",
        "governance reports audited",
        "alice's key cannot",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // 20 reports, or 21 when chain B voted on the aborted transfer before chain A's no: all audited.
    let audited =
        out.lines().find(|l| l.contains("governance reports audited")).expect("audit line");
    assert!(audited.contains("; all 2"), "{audited}");
    let summary = out.split("\nsummary").nth(1).expect("a summary table");
    for (scenario, outcome) in [
        ("2PC transfer", "committed"),
        ("2PC over balance", "aborted"),
        ("HTLC swap", "both legs unlocked"),
        ("relayer crash + takeover", "committed"),
    ] {
        let line = summary.lines().find(|l| l.contains(scenario)).expect(scenario);
        assert!(line.contains(outcome), "{line}");
    }
    assert!(!err.contains("ERROR"), "{err}");
}

/// `crossgov dev` prints its consortium, serves the relayer APIs, and on SIGTERM stops and takes
/// its anvil chains with it.
#[tokio::test]
async fn dev_runs_a_consortium_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let child = Command::new(BIN)
        .args(["dev", "--json", "--dir", dir.path().to_str().expect("utf-8")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crossgov dev");
    let mut child = Reaper(child);
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.0.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started: Value =
        serde_json::from_str(&rx.recv_timeout(WAIT).expect("the started line")).expect("JSON");
    assert_eq!(started["event"], "started", "{started}");
    let manifest = started["manifest"].as_str().expect("manifest");
    let deployment = crossgov_deploy::Deployment::read_manifest(manifest).expect("manifest");
    let chains = started["chains"].as_array().expect("chains");
    assert_eq!(chains.len(), 3);
    assert_eq!(chains[0]["chainId"], deployment.chain_id);
    for relayer in started["relayers"].as_array().expect("relayers") {
        let addr = relayer["http"].as_str().expect("http").trim_start_matches("http://");
        let client = Client::new(addr.parse().expect("addr"));
        let health = wait_for("/health to be 200", || async {
            let (status, body) = client.get("/health").await;
            (status == 200).then_some(body)
        })
        .await;
        assert_eq!(health["chains"].as_array().map(Vec::len), Some(2), "{health}");
    }
    let gov_url = chains[0]["rpcUrl"].as_str().expect("url").to_owned();
    let gov = alloy::providers::ProviderBuilder::new().connect_http(gov_url.parse().expect("url"));
    use alloy::providers::Provider;
    assert!(gov.get_block_number().await.is_ok(), "the governance chain answers");

    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let started_at = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(started_at.elapsed() < WAIT, "dev did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit {status}");
    let stopped: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).expect("stopped"))
            .expect("JSON");
    assert_eq!(stopped["event"], "stopped");
    // Its anvil processes are gone with it.
    assert!(gov.get_block_number().await.is_err(), "the governance chain still answers");
}

/// `crossgov deploy` to a fresh anvil: deploys and writes the manifest; run again it sends
/// nothing and reports the checked deployment; a bad genesis and a manifest of another chain are
/// refused with the cause, sending nothing.
#[tokio::test]
async fn deploy_is_idempotent_and_refuses_clearly() {
    use alloy::providers::{Provider, ProviderBuilder};
    use crossgov_deploy::devnet;

    let anvil = devnet::spawn_anvil().expect("anvil");
    let other = devnet::spawn_anvil_with_chain_id(4321).expect("anvil");
    let deployer = B256::from_slice(&anvil.keys()[9].to_bytes()).to_string();
    let deployer_address =
        alloy::signers::local::PrivateKeySigner::from(anvil.keys()[9].clone()).address();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let nonce = || async { provider.get_transaction_count(deployer_address).await.expect("nonce") };
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("governance.json");
    let genesis = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/consortium.example.toml");
    let url = anvil.endpoint_url().to_string();
    let env = [("CROSSGOV_KEY", deployer.as_str())];
    let deploy = |config: &str, url: &str| {
        crossgov(
            &[
                "deploy",
                "--config",
                config,
                "--rpc-url",
                url,
                "--manifest",
                manifest.to_str().expect("utf-8"),
                "--json",
            ],
            &env,
        )
    };

    let out = deploy(genesis, &url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(first["status"], "deployed");
    let written = crossgov_deploy::Deployment::read_manifest(&manifest).expect("manifest");
    assert_eq!(first["deployment"], serde_json::to_value(&written).expect("json"));
    let after_deploy = nonce().await;
    assert_eq!(after_deploy, 6, "five contracts and the Supervision binding");
    assert!(
        !stdout(&out).contains(&deployer[2..])
            && !String::from_utf8_lossy(&out.stderr).contains(&deployer[2..])
    );

    // Again: nothing sent, the same deployment reported after checking it on chain.
    let out = deploy(genesis, &url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(again["status"].as_str().is_some_and(|s| s.starts_with("already deployed")), "{again}");
    assert_eq!(again["deployment"], first["deployment"]);
    assert_eq!(nonce().await, after_deploy);

    // The manifest describes another chain than the endpoint's: refused, naming both chain ids.
    let out = deploy(genesis, other.endpoint_url().as_ref());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chain id 31337")
            && err.contains("chain id 4321")
            && err.contains("another --manifest"),
        "{err}"
    );

    // A bad genesis (two founders with one admin) sends nothing.
    std::fs::remove_file(&manifest).expect("remove");
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(genesis).expect("genesis").replace(
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    );
    std::fs::write(&bad, text).expect("write");
    let out = deploy(bad.to_str().expect("utf-8"), &url);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("genesis"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(nonce().await, after_deploy, "nothing sent");
    assert!(!manifest.exists());

    // Resources on a business chain, idempotent the same way.
    let resources = dir.path().join("chainA.json");
    let other_key = B256::from_slice(&other.keys()[0].to_bytes()).to_string();
    let other_url = other.endpoint_url();
    let args = [
        "deploy",
        "resources",
        "--rpc-url",
        other_url.as_ref(),
        "--manifest",
        resources.to_str().expect("utf-8"),
        "--json",
    ];
    let out = crossgov(&args, &[("CROSSGOV_KEY", other_key.as_str())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deployed =
        crossgov_deploy::ResourceDeployment::read_manifest(&resources).expect("manifest");
    assert_eq!(deployed.chain_id, 4321);
    let out = crossgov(&args, &[("CROSSGOV_KEY", other_key.as_str())]);
    let again: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(again["status"].as_str().is_some_and(|s| s.starts_with("already deployed")), "{again}");
}

/// The operator's and users' path through the binary alone: deploy the suite and a chain's
/// resources, vote an institution in, admit the chain, register accounts, name the serving
/// relayer, grant a permission, run the relayer, submit a transaction as a user and read its
/// status. Only the business chain's owner steps (authorise the relayer, mint) use the library.
#[test]
fn cli_runs_a_consortium_end_to_end() {
    use alloy::providers::{Provider, ProviderBuilder};
    use crossgov_deploy::devnet;

    let gov = devnet::spawn_anvil().expect("anvil");
    let chain_a = devnet::spawn_anvil_with_chain_id(2101).expect("anvil");
    let key = |i: usize| B256::from_slice(&gov.keys()[i].to_bytes()).to_string();
    let addr = |i: usize| gov.addresses()[i].to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("governance.json");
    let resources = dir.path().join("zoneA.chainA.json");
    let (gov_url, a_url) = (gov.endpoint_url().to_string(), chain_a.endpoint_url().to_string());
    let m = manifest.to_str().expect("utf-8").to_owned();
    let genesis = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/consortium.example.toml");
    // Runs `crossgov ARGS --rpc-url GOV --manifest M --json` signed by dev key `signer`.
    let run = |args: &[&str], signer: usize| -> (bool, Value, String) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--rpc-url", &gov_url, "--manifest", &m, "--json"]);
        let out = crossgov(&all, &[("CROSSGOV_KEY", &key(signer))]);
        let text = stdout(&out);
        let value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
        (out.status.success(), value, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let ok = |args: &[&str], signer: usize| -> Value {
        let (ok, v, err) = run(args, signer);
        assert!(ok, "crossgov {args:?}: {err}");
        v
    };

    // Deploy the suite (founders: dev keys 0, 1, 2) and chain A's resources (owner: key 0).
    let out = crossgov(
        &["deploy", "--config", genesis, "--rpc-url", &gov_url, "--manifest", &m],
        &[("CROSSGOV_KEY", &key(9))],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = crossgov(
        &[
            "deploy",
            "resources",
            "--rpc-url",
            &a_url,
            "--manifest",
            resources.to_str().expect("utf-8"),
        ],
        &[("CROSSGOV_KEY", &key(0))],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let res = crossgov_deploy::ResourceDeployment::read_manifest(&resources).expect("manifest");

    // Bank D is voted in by two of the three founders (at least 2/3) and the proposal executed.
    let opened =
        ok(&["gov", "propose", "admit-institution", "--name", "Bank D", "--admin", &addr(8)], 0);
    let id = opened["proposal"].as_str().expect("id").to_owned();
    assert_eq!(opened["required"], 2);
    // A user key is not an admin: refused with the cause and the fix, nothing changes.
    let (refused, _, err) = run(&["gov", "vote", "--id", &id], 5);
    assert!(
        !refused && err.contains("InstNotAdmin") && err.contains("sign with an admin key"),
        "{err}"
    );
    for voter in [0, 1] {
        ok(&["gov", "vote", "--id", &id], voter);
    }
    assert_eq!(ok(&["gov", "show", "--id", &id], 5)["state"], "Passed");
    ok(&["gov", "execute", "--id", &id], 9);
    let shown = ok(&["gov", "show", "--id", &id], 5);
    assert_eq!((shown["state"].as_str(), shown["approvals"].as_u64()), (Some("Executed"), Some(2)));
    let listed = ok(&["gov", "list"], 5);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    // The human form, with addresses, hashes and times redacted, against a snapshot.
    let text = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--rpc-url", &gov_url, "--manifest", &m]);
        stdout(&crossgov(&all, &[]))
    };
    assert_snapshot("gov-show", &text(&["gov", "show", "--id", &id]));
    assert_snapshot("gov-list", &text(&["gov", "list"]));

    // zoneA.chainA is admitted by vote, owned by Bank A (institution 1).
    let provider = ProviderBuilder::new().connect_http(chain_a.endpoint_url());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let genesis_hash = rt
        .block_on(async {
            provider.get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Number(0)).await
        })
        .expect("block")
        .expect("block 0")
        .header
        .hash
        .to_string();
    let opened = ok(
        &[
            "gov",
            "propose",
            "admit-chain",
            "--chain",
            "zoneA.chainA",
            "--chain-id",
            "2101",
            "--genesis-hash",
            &genesis_hash,
            "--owner",
            "1",
        ],
        0,
    );
    let id = opened["proposal"].as_str().expect("id").to_owned();
    for voter in [0, 1, 2, 8] {
        // Bank D joined after the proposal's electorate was fixed: its vote is refused.
        let (voted, _, err) = run(&["gov", "vote", "--id", &id], voter);
        assert_eq!(voted, voter != 8, "{err}");
    }
    ok(&["gov", "execute", "--id", &id], 9);

    // Bank A registers its relayer (key 3) and user alice (key 5), names the relayer, grants alice.
    ok(&["gov", "add-account", "--account", &addr(3), "--role", "relayer"], 0);
    ok(&["gov", "add-account", "--account", &addr(5), "--role", "user"], 0);
    ok(&["chain", "set-relayers", "--chain", "zoneA.chainA", "--relayer", &addr(3)], 0);
    assert_snapshot(
        "chain-list",
        &stdout(&crossgov(&["chain", "list", "--rpc-url", &gov_url, "--manifest", &m], &[])),
    );
    let chains = ok(&["chain", "list"], 5);
    assert_eq!(chains[0]["chain"], "zoneA.chainA");
    assert_eq!(chains[0]["servingRelayers"], serde_json::json!([addr(3).to_lowercase()]));
    ok(
        &[
            "perm",
            "grant",
            "--account",
            &addr(5),
            "--pattern",
            "zoneA.chainA.*",
            "--ops",
            "two_phase",
        ],
        0,
    );
    let check = |path: &str| {
        ok(&["perm", "check", "--account", &addr(5), "--path", path, "--op", "two_phase"], 5)["allowed"].clone()
    };
    assert_eq!(check("zoneA.chainA.ledger"), true);
    assert_eq!(check("zoneB.chainB.ledger"), false);
    // Bank B's admin may not grant on Bank A's chain.
    let (granted, _, err) = run(
        &[
            "perm",
            "grant",
            "--account",
            &addr(6),
            "--pattern",
            "zoneA.chainA.*",
            "--ops",
            "two_phase",
        ],
        1,
    );
    assert!(!granted && err.contains("PermNotChainOwner"), "{err}");

    // The chain's owner authorises the relayer on the ledger and funds alice (library calls).
    rt.block_on(async {
        use alloy::network::EthereumWallet;
        let owner = ProviderBuilder::new()
            .wallet(EthereumWallet::from(alloy::signers::local::PrivateKeySigner::from(
                gov.keys()[0].clone(),
            )))
            .connect_http(chain_a.endpoint_url());
        let xa = crossgov_relayer::bindings::XaLedger::new(res.xa_ledger.address, owner);
        let relayer = gov.addresses()[3];
        xa.setRelayer(relayer, true)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("setRelayer");
        let alice = gov.addresses()[5];
        xa.mint(alice, alloy::primitives::U256::from(100))
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("mint");
    });

    // The relayer runs from a config naming the manifest.
    let config = dir.path().join("relayer.toml");
    let text = format!(
        "institution = 1\nstate_dir = \"state\"\n[governance]\nrpc_url = \"{gov_url}\"\nconfirmations = 1\npoll_interval_ms = 50\nreconcile_every_blocks = 1\nmanifest = \"{m}\"\n[signer]\nprivate_key_env = \"CROSSGOV_RELAYER_KEY\"\n[http]\nlisten = \"127.0.0.1:0\"\n[[chains]]\nzone = \"zoneA\"\nchain = \"chainA\"\nrpc_url = \"{a_url}\"\nconfirmations = 1\n[chains.resources]\nledger = \"{}\"\n",
        res.xa_ledger.address
    );
    std::fs::write(&config, text).expect("config");
    let child = Command::new(BIN)
        .args(["relayer", "run", "--config", config.to_str().expect("utf-8")])
        .env(KEY_ENV, key(3))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn relayer");
    let mut child = Reaper(child);
    let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let started: Value =
        serde_json::from_str(&lines.next().expect("a line").expect("read")).expect("JSON");
    let http = format!("http://{}", started["http"].as_str().expect("http"));

    // alice signs a transfer to bob (key 6) on chain A and submits it through the relayer.
    let submitted = ok(
        &[
            "tx",
            "submit",
            "--relayer",
            &http,
            "--step",
            &format!("zoneA.chainA.ledger:debit:{}:10", addr(5)),
            "--step",
            &format!("zoneA.chainA.ledger:credit:{}:10", addr(6)),
        ],
        5,
    );
    let tx_id = submitted["txId"].as_str().expect("txId").to_owned();
    let started_at = Instant::now();
    let status = loop {
        let status = ok(&["tx", "status", "--id", &tx_id], 5);
        if status["state"] == "Committed" {
            break status;
        }
        assert!(started_at.elapsed() < WAIT, "not committed: {status}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["steps"][1]["acked"], true);
    assert_eq!(ok(&["tx", "list"], 5), serde_json::json!([]));
    // A step alice holds no grant for is refused by the relayer, with the contract's reason.
    let (sent, _, err) = run(
        &[
            "tx",
            "submit",
            "--relayer",
            &http,
            "--step",
            &format!("zoneA.chainA.ledger:credit:{}:1", addr(6)),
        ],
        6,
    );
    assert!(!sent && err.contains("TxNotUser"), "{err}");
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let _ = child.0.wait();
}

/// `keys new` writes a 0600 keystore naming its address; `keys list` shows it without a password;
/// `keys show` decrypts it (a wrong password is a clear error); an existing file is never
/// overwritten; the password never appears in any output.
#[test]
fn keys_new_list_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("alice.json");
    let p = path.to_str().expect("utf-8");
    let password = "correct horse battery staple";
    let env = [("CROSSGOV_KEYSTORE_PASSWORD", password)];
    let out = crossgov(&["keys", "new", "--out", p, "--json"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let address = created["address"].as_str().expect("address").to_lowercase();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let out =
        crossgov(&["keys", "list", "--dir", dir.path().to_str().expect("utf-8"), "--json"], &[]);
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(listed[0]["address"].as_str().map(str::to_lowercase), Some(address.clone()));
    let out = crossgov(&["keys", "show", "--keystore", p, "--json"], &env);
    let shown: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(shown["address"].as_str().map(str::to_lowercase), Some(address));
    assert_eq!(shown["publicKey"], created["publicKey"]);
    let out =
        crossgov(&["keys", "show", "--keystore", p], &[("CROSSGOV_KEYSTORE_PASSWORD", "nope")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    let before = std::fs::read(&path).expect("read");
    let out = crossgov(&["keys", "new", "--out", p], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&path).expect("read"), before, "the key is untouched");
    let out = crossgov(
        &["keys", "new", "--out", dir.path().join("b.json").to_str().expect("utf-8")],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "no password, no key");
    assert!(String::from_utf8_lossy(&out.stderr).contains("CROSSGOV_KEYSTORE_PASSWORD"));
}

/// A swap through the binary against `crossgov dev`: alice proposes through Bank A's relayer,
/// bob accepts through Bank B's, and `swap status` reports it closed with both legs unlocked.
#[test]
fn swap_cli_against_dev() {
    let dir = tempfile::tempdir().expect("tempdir");
    let child = Command::new(BIN)
        .args(["dev", "--json", "--dir", dir.path().to_str().expect("utf-8")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crossgov dev");
    let mut child = Reaper(child);
    let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let dev: Value =
        serde_json::from_str(&lines.next().expect("a line").expect("read")).expect("JSON");
    let url = |i: usize| dev["chains"][i]["rpcUrl"].as_str().expect("url").to_owned();
    let api = |i: usize| dev["relayers"][i]["http"].as_str().expect("http").to_owned();
    let account = |role: &str| {
        dev["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["role"].as_str().is_some_and(|r| r.starts_with(role)))
            .cloned()
            .expect(role)
    };
    let (alice, bob) = (account("alice"), account("bob"));
    let key = |a: &Value| a["privateKey"].as_str().expect("key").to_owned();
    let addr = |a: &Value| a["address"].as_str().expect("address").to_owned();
    let manifest = dev["manifest"].as_str().expect("manifest").to_owned();
    let res = |name: &str| {
        crossgov_deploy::ResourceDeployment::read_manifest(dir.path().join(format!("{name}.json")))
            .expect("resource manifest")
    };
    let (res_a, res_b) = (res("zoneA.chainA"), res("zoneB.chainB"));
    let gov = ["--rpc-url", &url(0), "--manifest", &manifest, "--json"];
    let request = dir.path().join("swap.json");
    let mut propose = vec![
        "swap",
        "propose",
        "--leg-a",
        &format!("zoneA.chainA.asset:{}:30", addr(&bob)),
        "--leg-b",
        &format!("zoneB.chainB.asset:{}:20", addr(&bob)),
        "--rpc-a",
        &url(1),
        "--asset-a",
        &res_a.htlc_asset.address.to_string(),
        "--rpc-b",
        &url(2),
        "--relayer",
        &api(0),
        "--out",
        request.to_str().expect("utf-8"),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    propose.extend(gov.map(String::from));
    let args: Vec<&str> = propose.iter().map(String::as_str).collect();
    let out = crossgov(&args, &[("CROSSGOV_KEY", &key(&alice))]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let proposed: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let swap_id = proposed["swapId"].as_str().expect("swapId").to_owned();

    // alice cannot accept in bob's place.
    let accept = |k: &str| {
        let mut a = vec![
            "swap".to_owned(),
            "accept".into(),
            "--request".into(),
            request.to_string_lossy().into_owned(),
            "--asset-b".into(),
            res_b.htlc_asset.address.to_string(),
            "--chain-id-b".into(),
            res_b.chain_id.to_string(),
            "--relayer".into(),
            api(1),
        ];
        a.extend(gov.map(String::from));
        let args: Vec<&str> = a.iter().map(String::as_str).collect();
        crossgov(&args, &[("CROSSGOV_KEY", k)])
    };
    let out = accept(&key(&alice));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leg B is paid by"));
    let out = accept(&key(&bob));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let started = Instant::now();
    loop {
        let out =
            crossgov(&["swap", "status", "--id", &swap_id, "--relayer", &api(0), "--json"], &[]);
        let status: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
        if status["state"] == "Closed" {
            let legs: Vec<&str> = status["legs"]
                .as_array()
                .expect("legs")
                .iter()
                .filter_map(|l| l["state"].as_str())
                .collect();
            assert_eq!(legs, ["Unlocked", "Unlocked"], "{status}");
            break;
        }
        assert!(started.elapsed() < WAIT, "not closed: {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let _ = child.0.wait();
}

/// Replaces what differs between runs: 0x-hex (addresses, hashes, calldata) and unix times.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        let hex = rest[i + 2..].chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str(match hex {
            40 => "<address>",
            64 => "<hash>",
            0 => "0x",
            _ => "<hex>",
        });
        rest = &rest[i + 2 + hex..];
    }
    out.push_str(rest);
    // Runs of exactly ten digits are unix times here.
    let mut timed = String::with_capacity(out.len());
    let mut digits = String::new();
    for c in out.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        timed.push_str(if digits.len() == 10 { "<time>" } else { &digits });
        digits.clear();
        timed.push(c);
    }
    timed.pop();
    timed
}

/// Compares redacted output with `tests/it/snapshots/NAME.txt`; `CROSSGOV_UPDATE_SNAPSHOTS=1`
/// rewrites it.
fn assert_snapshot(name: &str, output: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/snapshots")
        .join(format!("{name}.txt"));
    let redacted = redact(output);
    if std::env::var_os("CROSSGOV_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &redacted).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        redacted, expected,
        "{name}: output changed (CROSSGOV_UPDATE_SNAPSHOTS=1 to accept)"
    );
}

/// The gas benchmark runs, and no figure grew more than 5 % over the committed baseline.
#[test]
fn bench_gas_stays_within_the_baseline() {
    let baseline = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/baseline/gas.json");
    let out = Command::new(env!("CARGO_BIN_EXE_crossgov-bench"))
        .args(["gas", "--json", "--check", baseline])
        .stdin(Stdio::null())
        .output()
        .expect("run crossgov-bench");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reports: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let scenarios: Vec<&str> =
        reports.as_array().expect("array").iter().filter_map(|r| r["scenario"].as_str()).collect();
    assert_eq!(
        scenarios,
        [
            "2PC transfer, 2 steps on 2 chains",
            "HTLC swap",
            "8 votes with their audit records, one report each",
            "8 votes with their audit records, one report"
        ]
    );
    // The report carries the same eight votes and records in one transaction.
    let total = |i: usize| reports[i]["total"].as_u64().expect("total");
    assert!(total(3) < total(2), "one report {} vs one at a time {}", total(3), total(2));
    // Its gas is shared among the eight items it carries.
    assert_eq!(reports[3]["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(reports[3]["lines"][0]["function"], "report(vote)");
    assert_eq!(reports[3]["lines"][0]["calls"], 8);
    for r in reports.as_array().expect("array") {
        assert!(r["ratio"].as_f64().is_some_and(|x| x > 1.0), "{r}");
        let sum: u64 =
            r["lines"].as_array().expect("lines").iter().filter_map(|l| l["gas"].as_u64()).sum();
        assert_eq!(Some(sum), r["total"].as_u64());
    }
}

/// The load benchmark runs at a tiny size (two transfers and two swaps at 1 s blocks) and reports
/// consistent figures.
#[test]
fn bench_load_runs_at_a_tiny_size() {
    let out = Command::new(env!("CARGO_BIN_EXE_crossgov-bench"))
        .args(["load", "--users", "2", "--block-time", "1", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("run crossgov-bench");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(r["completed"], 2);
    let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert!(f("throughputTps") > 0.0);
    assert!(f("latencyP50Secs") <= f("latencyP95Secs"));
    assert!(r["latencyP50Blocks"].as_u64().is_some_and(|b| b >= 2), "{r}");
    assert!(f("ceilingTps") > f("throughputTps"));
    assert!(f("resumeSecs") > 0.0 && r["resumeBlocks"].as_u64().is_some_and(|b| b >= 1), "{r}");
    assert!(f("peakRssMib") > 0.0);
    assert_eq!(r["swaps"], 2);
    assert!(f("swapThroughput") > 0.0 && f("swapLatencyP50Secs") <= f("swapLatencyP95Secs"));
}
