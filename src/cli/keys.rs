//! `crossgov keys new|list|show`: encrypted JSON keystores (Web3 Secret Storage) for admins,
//! relayers, users and regulators. Passwords come from an environment variable or a file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use crossgov_relayer::audit::envelope::public_key_xy;
use crossgov_relayer::keys::{PasswordSource, SignerSource, create_keystore};
use serde_json::{Value, json};

use super::common::print;

/// `crossgov keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new random key in an encrypted keystore (refused if the file exists).
    New {
        /// The keystore file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        password: Password,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the keystores in a directory with their addresses (no password needed).
    List {
        /// The directory.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decrypt a keystore (checking the password) and print its address and public key.
    Show {
        /// The keystore.
        #[arg(long, value_name = "FILE")]
        keystore: PathBuf,
        #[command(flatten)]
        password: Password,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Where the keystore password comes from.
#[derive(Debug, clap::Args)]
pub struct Password {
    /// Environment variable holding the password.
    #[arg(long, value_name = "VAR", default_value = "CROSSGOV_KEYSTORE_PASSWORD")]
    password_env: String,
    /// File holding the password (instead of the variable).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl Password {
    fn source(&self) -> PasswordSource {
        match &self.password_file {
            Some(f) => PasswordSource::File(f.clone()),
            None => PasswordSource::Env(self.password_env.clone()),
        }
    }
}

fn describe(
    signer: &alloy::signers::local::PrivateKeySigner,
    path: &Path,
) -> Result<Value, String> {
    let secret =
        k256::SecretKey::from_slice(signer.to_bytes().as_slice()).map_err(|e| e.to_string())?;
    let public = format!("0x{}", hex::encode(public_key_xy(&secret.public_key())));
    Ok(json!({ "address": signer.address(), "publicKey": public, "keystore": path }))
}

/// Runs a `keys` subcommand.
pub fn run(cmd: KeysCommand) -> ExitCode {
    let result = match cmd {
        KeysCommand::New { out, password, json } => create_keystore(&out, &password.source())
            .map_err(|e| e.to_string())
            .and_then(|signer| describe(&signer, &out))
            .map(|v| {
                let text =
                    format!("{}  {}", v["address"].as_str().unwrap_or_default(), out.display());
                print(json, &v, &text);
            }),
        KeysCommand::Show { keystore, password, json } => {
            SignerSource::Keystore { path: keystore.clone(), password: password.source() }
                .load()
                .map_err(|e| e.to_string())
                .and_then(|signer| describe(&signer, &keystore))
                .map(|v| {
                    let text = format!(
                        "address    {}\npublic key {}",
                        v["address"].as_str().unwrap_or_default(),
                        v["publicKey"].as_str().unwrap_or_default()
                    );
                    print(json, &v, &text);
                })
        }
        KeysCommand::List { dir, json } => list(&dir, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crossgov keys: {e}");
            ExitCode::FAILURE
        }
    }
}

fn list(dir: &Path, json: bool) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
        if v.get("crypto").is_none() {
            continue;
        }
        let address = v["address"].as_str().map(|a| format!("0x{}", a.trim_start_matches("0x")));
        out.push(json!({ "keystore": path, "address": address }));
    }
    out.sort_by(|a, b| a["keystore"].as_str().cmp(&b["keystore"].as_str()));
    if json {
        println!("{}", Value::Array(out));
    } else {
        for v in &out {
            println!(
                "{:<44} {}",
                v["address"].as_str().unwrap_or("(address not recorded)"),
                v["keystore"].as_str().unwrap_or_default()
            );
        }
        eprintln!("{} keystores in {}", out.len(), dir.display());
    }
    Ok(())
}
