//! Loading the relayer's account key: an encrypted JSON keystore (Web3 Secret Storage) whose
//! password comes from an environment variable or a file, or a raw hex key from an environment
//! variable. Never from the command line, never logged: no error here contains a secret.

use std::path::PathBuf;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;

/// Where the key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerSource {
    /// An encrypted JSON keystore.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// Its password.
        password: PasswordSource,
    },
    /// A raw hex private key (with or without `0x`) in this environment variable.
    PrivateKeyEnv(String),
}

/// Where a keystore password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// This environment variable.
    Env(String),
    /// This file (one trailing newline is ignored).
    File(PathBuf),
}

/// The key could not be loaded. Messages name files and variables, never their secret content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An environment variable is unset or not unicode.
    #[error("environment variable {name} is not set")]
    EnvUnset {
        /// The variable.
        name: String,
    },
    /// The raw key in the variable is not 32 bytes of hex or not a valid secp256k1 scalar.
    #[error("environment variable {name} does not hold a valid 32-byte hex private key")]
    BadPrivateKey {
        /// The variable.
        name: String,
    },
    /// A file (keystore or password file) cannot be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The keystore is not a JSON keystore.
    #[error("{path} is not an encrypted JSON keystore: {reason}")]
    NotAKeystore {
        /// The file.
        path: PathBuf,
        /// The parse error (about structure, not content).
        reason: String,
    },
    /// Decryption failed: wrong password (MAC mismatch) or corrupt keystore.
    #[error("cannot decrypt keystore {path}: wrong password or corrupt file")]
    Decrypt {
        /// The keystore.
        path: PathBuf,
    },
}

impl SignerSource {
    /// Cheap checks without decrypting: the keystore and password file are readable, the keystore
    /// is JSON with a `crypto` section, the variables are set, a raw key parses.
    pub fn check(&self) -> Result<(), KeyError> {
        self.check_with(&env_var)
    }

    /// [`SignerSource::check`] with `env` standing for the process environment.
    pub fn check_with(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), KeyError> {
        match self {
            SignerSource::PrivateKeyEnv(name) => parse_raw_key(name, env).map(drop),
            SignerSource::Keystore { path, password } => {
                let text = read(path)?;
                let json: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| KeyError::NotAKeystore {
                        path: path.clone(),
                        reason: format!("line {}", e.line()),
                    })?;
                if json.get("crypto").or_else(|| json.get("Crypto")).is_none() {
                    return Err(KeyError::NotAKeystore {
                        path: path.clone(),
                        reason: "no crypto section".into(),
                    });
                }
                password.read(env).map(drop)
            }
        }
    }

    /// Loads the signer (decrypting the keystore: scrypt, slow by design).
    pub fn load(&self) -> Result<PrivateKeySigner, KeyError> {
        self.load_with(&env_var)
    }

    /// [`SignerSource::load`] with `env` standing for the process environment.
    pub fn load_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PrivateKeySigner, KeyError> {
        match self {
            SignerSource::PrivateKeyEnv(name) => parse_raw_key(name, env),
            SignerSource::Keystore { path, password } => {
                self.check_with(env)?;
                let password = password.read(env)?;
                PrivateKeySigner::decrypt_keystore(path, password)
                    .map_err(|_| KeyError::Decrypt { path: path.clone() })
            }
        }
    }
}

impl PasswordSource {
    fn read(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<String, KeyError> {
        match self {
            PasswordSource::Env(name) => {
                env(name).ok_or_else(|| KeyError::EnvUnset { name: name.clone() })
            }
            PasswordSource::File(path) => {
                let mut text = read(path)?;
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                Ok(text)
            }
        }
    }
}

/// Creates a new random key in an encrypted JSON keystore at `path` (which must not exist; mode
/// 0600 on unix), under `password` from `source`. Returns the key.
pub fn create_keystore(
    path: &std::path::Path,
    password: &PasswordSource,
) -> Result<PrivateKeySigner, KeyError> {
    let unreadable = |reason: String| KeyError::Unreadable { path: path.to_path_buf(), reason };
    if path.exists() {
        return Err(unreadable("the file exists; refusing to overwrite a key".into()));
    }
    let password = password.read(&env_var)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| unreadable("not a file name".into()))?;
    std::fs::create_dir_all(&dir).map_err(|e| unreadable(e.to_string()))?;
    let mut rng = alloy::signers::k256::elliptic_curve::rand_core::OsRng;
    let (signer, _) = PrivateKeySigner::new_keystore(&dir, &mut rng, password, Some(name))
        .map_err(|e| unreadable(e.to_string()))?;
    // Like geth's, the file names its address (public), so keys can be listed without passwords.
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
    json["address"] = serde_json::Value::String(hex::encode(signer.address()));
    std::fs::write(path, json.to_string()).map_err(|e| unreadable(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| unreadable(e.to_string()))?;
    }
    Ok(signer)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read(path: &PathBuf) -> Result<String, KeyError> {
    std::fs::read_to_string(path)
        .map_err(|e| KeyError::Unreadable { path: path.clone(), reason: e.kind().to_string() })
}

fn parse_raw_key(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PrivateKeySigner, KeyError> {
    let value = env(name).ok_or_else(|| KeyError::EnvUnset { name: name.to_owned() })?;
    let bad = || KeyError::BadPrivateKey { name: name.to_owned() };
    let key: B256 = value.trim().parse().map_err(|_| bad())?;
    PrivateKeySigner::from_bytes(&key).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alloy::signers::k256::elliptic_curve::rand_core::OsRng;

    use super::*;

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn raw_key_from_env() {
        let src = SignerSource::PrivateKeyEnv("RELAYER_KEY".into());
        let signer = src.load_with(&env_of(&[("RELAYER_KEY", KEY)])).unwrap();
        assert_eq!(signer.to_bytes(), KEY.parse::<B256>().unwrap());
        let err = src.load_with(&env_of(&[])).unwrap_err();
        assert!(matches!(err, KeyError::EnvUnset { .. }));
        let bad = "0x1234zz";
        let err = src.load_with(&env_of(&[("RELAYER_KEY", bad)])).unwrap_err();
        assert!(matches!(err, KeyError::BadPrivateKey { .. }));
        assert!(!err.to_string().contains(bad));
        // The zero scalar is no key.
        let zero = format!("0x{}", "00".repeat(32));
        assert!(matches!(
            src.load_with(&env_of(&[("RELAYER_KEY", &zero)])).unwrap_err(),
            KeyError::BadPrivateKey { .. }
        ));
    }

    #[test]
    fn keystore_with_password_from_env_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = KEY.parse::<B256>().unwrap();
        let password = "correct horse battery staple";
        let (signer, _) = PrivateKeySigner::encrypt_keystore(
            dir.path(),
            &mut OsRng,
            key,
            password,
            Some("relayer.json"),
        )
        .unwrap();
        let path = dir.path().join("relayer.json");
        let pw_file = dir.path().join("password");
        std::fs::write(&pw_file, format!("{password}\n")).unwrap();

        let from_file =
            SignerSource::Keystore { path: path.clone(), password: PasswordSource::File(pw_file) };
        from_file.check_with(&env_of(&[])).unwrap();
        assert_eq!(from_file.load_with(&env_of(&[])).unwrap().address(), signer.address());

        let from_env = SignerSource::Keystore {
            path: path.clone(),
            password: PasswordSource::Env("PW".into()),
        };
        assert!(matches!(
            from_env.check_with(&env_of(&[])).unwrap_err(),
            KeyError::EnvUnset { .. }
        ));
        assert_eq!(
            from_env.load_with(&env_of(&[("PW", password)])).unwrap().address(),
            signer.address()
        );

        let wrong = "hunter2";
        let err = from_env.load_with(&env_of(&[("PW", wrong)])).unwrap_err();
        assert!(matches!(err, KeyError::Decrypt { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(wrong) && !shown.contains(&KEY[2..]), "{shown}");
    }

    #[test]
    fn unreadable_or_foreign_keystore() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SignerSource::Keystore {
            path: dir.path().join("missing.json"),
            password: PasswordSource::Env("PW".into()),
        };
        let err = missing.check_with(&env_of(&[("PW", "x")])).unwrap_err();
        assert!(matches!(err, KeyError::Unreadable { .. }));
        assert!(err.to_string().contains("missing.json"));
        let junk = dir.path().join("junk.json");
        std::fs::write(&junk, "{\"secret\": \"s3cr3t\"}").unwrap();
        let junk =
            SignerSource::Keystore { path: junk, password: PasswordSource::Env("PW".into()) };
        let err = junk.check_with(&env_of(&[("PW", "x")])).unwrap_err();
        assert!(matches!(err, KeyError::NotAKeystore { .. }));
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
