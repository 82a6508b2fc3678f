//! The relayer's only HTLC state at rest: per swap, the unrevealed secret (initiator's relayer)
//! and the `Lock` signatures supplied with the proposal / acceptance, in `state_dir/htlc/`.
//!
//! Files are JSON, written to a temporary file created with mode 0600 and renamed into place.
//! A revealed secret is removed from its file; a closed swap's file is deleted.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{B256, Bytes};

use crate::protocol::Secret;
use crate::protocol::htlc::LegId;

/// What the relayer keeps for one swap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwapRecord {
    /// The unrevealed secret (initiator's relayer only).
    pub secret: Option<Secret>,
    /// Leg A's sender's `Lock` signature.
    pub lock_sig_a: Option<Bytes>,
    /// Leg B's sender's `Lock` signature.
    pub lock_sig_b: Option<Bytes>,
}

impl SwapRecord {
    /// The `Lock` signature of `leg`.
    pub fn lock_sig(&self, leg: LegId) -> Option<&Bytes> {
        match leg {
            LegId::A => self.lock_sig_a.as_ref(),
            LegId::B => self.lock_sig_b.as_ref(),
        }
    }

    fn to_json(&self) -> String {
        let hex = |b: &Option<Bytes>| b.as_ref().map(|b| b.to_string());
        serde_json::json!({
            "secret": self.secret.as_ref().map(|s| s.reveal().to_string()),
            "lockSignatureA": hex(&self.lock_sig_a),
            "lockSignatureB": hex(&self.lock_sig_b),
        })
        .to_string()
    }

    fn from_json(text: &str) -> Option<SwapRecord> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        Some(SwapRecord {
            secret: field("secret").and_then(|s| s.parse::<B256>().ok()).map(Secret::from_bytes),
            lock_sig_a: field("lockSignatureA").and_then(|s| s.parse().ok()),
            lock_sig_b: field("lockSignatureB").and_then(|s| s.parse().ok()),
        })
    }
}

/// Why a secret was not generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// As many generated secrets wait for their proposal as allowed; one frees when a proposal
    /// uses it or it expires.
    #[error("{max} generated secrets already wait for their proposal: try again later")]
    Full {
        /// [`SecretStore::max_pending`].
        max: usize,
    },
    /// The state directory could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Whether a pending secret generated at `created` (unix seconds) has expired at `now`.
pub fn expired(created: u64, now: u64, ttl: Duration) -> bool {
    now.saturating_sub(created) >= ttl.as_secs()
}

/// The directory of swap records.
#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
    max_pending: usize,
    ttl: Duration,
}

impl SecretStore {
    /// Records under `state_dir/htlc` (created when first written), with the default limits on
    /// generated secrets.
    pub fn new(state_dir: &Path) -> SecretStore {
        SecretStore {
            dir: state_dir.join("htlc"),
            max_pending: super::DEFAULT_MAX_PENDING_SECRETS,
            ttl: super::DEFAULT_PENDING_SECRET_TTL,
        }
    }

    /// At most `max_pending` generated secrets wait for a proposal, each at most `ttl`.
    pub fn with_limits(mut self, max_pending: usize, ttl: Duration) -> SecretStore {
        self.max_pending = max_pending;
        self.ttl = ttl;
        self
    }

    /// The cap on generated secrets waiting for a proposal.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn swap_path(&self, swap_id: B256) -> PathBuf {
        self.dir.join(format!("swap-{swap_id:x}.json"))
    }

    fn pending_path(&self, hashlock: B256) -> PathBuf {
        self.dir.join(format!("pending-{hashlock:x}.json"))
    }

    /// The record of `swap_id` (empty when none).
    pub fn load(&self, swap_id: B256) -> SwapRecord {
        std::fs::read_to_string(self.swap_path(swap_id))
            .ok()
            .and_then(|t| SwapRecord::from_json(&t))
            .unwrap_or_default()
    }

    /// Writes the record of `swap_id` (mode 0600, atomically).
    pub fn save(&self, swap_id: B256, record: &SwapRecord) -> std::io::Result<()> {
        write_private(&self.swap_path(swap_id), &record.to_json())
    }

    /// Updates the record of `swap_id` with `f`.
    pub fn update(
        &self,
        swap_id: B256,
        f: impl FnOnce(&mut SwapRecord),
    ) -> std::io::Result<SwapRecord> {
        let mut record = self.load(swap_id);
        f(&mut record);
        self.save(swap_id, &record)?;
        Ok(record)
    }

    /// Removes the secret of `swap_id` (it was revealed on chain).
    pub fn forget_secret(&self, swap_id: B256) -> std::io::Result<()> {
        let record = self.load(swap_id);
        if record.secret.is_some() {
            self.save(swap_id, &SwapRecord { secret: None, ..record })?;
        }
        Ok(())
    }

    /// The swaps with a record.
    pub fn swap_ids(&self) -> Vec<B256> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix("swap-")?.strip_suffix(".json")?.parse::<B256>().ok()
            })
            .collect()
    }

    /// Deletes the record of `swap_id` (the swap is over).
    pub fn remove(&self, swap_id: B256) {
        let _ = std::fs::remove_file(self.swap_path(swap_id));
    }

    /// A fresh secret kept until a proposal with its hashlock arrives (or it expires); returns
    /// the hashlock. Expired ones are pruned first; refused when the cap is reached.
    pub fn generate(&self, now: u64) -> Result<B256, GenerateError> {
        let waiting = self.prune_pending(now);
        if waiting >= self.max_pending {
            return Err(GenerateError::Full { max: self.max_pending });
        }
        let secret = Secret::random();
        let hashlock = secret.hashlock();
        let record = SwapRecord { secret: Some(secret), ..SwapRecord::default() };
        let mut json: serde_json::Value =
            serde_json::from_str(&record.to_json()).map_err(std::io::Error::other)?;
        json["createdAt"] = serde_json::json!(now);
        write_private(&self.pending_path(hashlock), &json.to_string())?;
        Ok(hashlock)
    }

    /// Deletes generated secrets older than the ttl at `now` (unix seconds); returns how many
    /// still wait.
    pub fn prune_pending(&self, now: u64) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
        let mut waiting = 0;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with("pending-") && name.ends_with(".json")) {
                continue;
            }
            let created = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("createdAt").and_then(serde_json::Value::as_u64))
                .or_else(|| {
                    // Written before createdAt existed: the file's time.
                    let modified = entry.metadata().ok()?.modified().ok()?;
                    Some(modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
                })
                .unwrap_or(0);
            if expired(created, now, self.ttl) {
                let _ = std::fs::remove_file(entry.path());
            } else {
                waiting += 1;
            }
        }
        waiting
    }

    /// The generated secret of `hashlock`, if any.
    pub fn pending(&self, hashlock: B256) -> Option<Secret> {
        std::fs::read_to_string(self.pending_path(hashlock))
            .ok()
            .and_then(|t| SwapRecord::from_json(&t))
            .and_then(|r| r.secret)
            .filter(|s| s.opens(&hashlock))
    }

    /// Drops the pending secret of `hashlock` (moved to a swap record).
    pub fn drop_pending(&self, hashlock: B256) {
        let _ = std::fs::remove_file(self.pending_path(hashlock));
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_private_files() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SecretStore::new(dir.path());
        let id = B256::repeat_byte(7);
        assert_eq!(store.load(id), SwapRecord::default());
        let secret = Secret::random();
        let record = SwapRecord {
            secret: Some(secret.clone()),
            lock_sig_a: Some(Bytes::from(vec![1u8; 65])),
            lock_sig_b: None,
        };
        store.save(id, &record).expect("save");
        assert_eq!(store.load(id), record);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(store.swap_path(id)).expect("meta");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(store.swap_ids(), [id]);
        store.forget_secret(id).expect("forget");
        assert_eq!(store.load(id).secret, None);
        assert!(store.load(id).lock_sig_a.is_some());
        store.remove(id);
        assert_eq!(store.load(id), SwapRecord::default());

        let hashlock = store.generate(1_000).expect("generate");
        assert!(store.pending(hashlock).is_some_and(|s| s.opens(&hashlock)));
        store.drop_pending(hashlock);
        assert!(store.pending(hashlock).is_none());
    }

    #[test]
    fn generated_secrets_are_capped_and_expire() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SecretStore::new(dir.path()).with_limits(2, Duration::from_secs(60));
        let first = store.generate(1_000).expect("one");
        store.generate(1_030).expect("two");
        assert!(matches!(store.generate(1_031), Err(GenerateError::Full { max: 2 })));
        // The first expires 60 s after it was made: its place comes free, the second stays.
        assert_eq!(store.prune_pending(1_059), 2);
        let third = store.generate(1_060).expect("the first expired");
        assert!(store.pending(first).is_none(), "expired and deleted");
        assert!(store.pending(third).is_some());
        assert_eq!(store.prune_pending(1_200), 0, "all expired");
        // Swap records are not pending secrets: pruning leaves them.
        let id = B256::repeat_byte(1);
        store.save(id, &SwapRecord::default()).expect("save");
        store.prune_pending(9_999);
        assert_eq!(store.swap_ids(), [id]);
    }

    #[test]
    fn expiry_is_at_the_ttl() {
        let ttl = Duration::from_secs(10);
        assert!(!expired(100, 109, ttl));
        assert!(expired(100, 110, ttl));
        assert!(!expired(100, 50, ttl), "a clock that went back expires nothing");
    }
}
