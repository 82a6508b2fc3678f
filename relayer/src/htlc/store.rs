//! The relayer's only HTLC state at rest: per swap, the unrevealed secret (initiator's relayer)
//! and the `Lock` signatures supplied with the proposal / acceptance, in `state_dir/htlc/`.
//!
//! Files are JSON, written to a temporary file created with mode 0600 and renamed into place.
//! A revealed secret is removed from its file; a closed swap's file is deleted.

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// The directory of swap records.
#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
}

impl SecretStore {
    /// Records under `state_dir/htlc` (created when first written).
    pub fn new(state_dir: &Path) -> SecretStore {
        SecretStore { dir: state_dir.join("htlc") }
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

    /// A fresh secret kept until a proposal with its hashlock arrives; returns the hashlock.
    pub fn generate(&self) -> std::io::Result<B256> {
        let secret = Secret::random();
        let hashlock = secret.hashlock();
        let record = SwapRecord { secret: Some(secret), ..SwapRecord::default() };
        write_private(&self.pending_path(hashlock), &record.to_json())?;
        Ok(hashlock)
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

        let hashlock = store.generate().expect("generate");
        assert!(store.pending(hashlock).is_some_and(|s| s.opens(&hashlock)));
        store.drop_pending(hashlock);
        assert!(store.pending(hashlock).is_none());
    }
}
