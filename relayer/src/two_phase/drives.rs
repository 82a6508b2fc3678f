//! Open subjects (transactions, swaps) driven each in its own task, never two tasks for one.
//!
//! A reconcile pass lists what is open and starts a drive for every subject not already being
//! driven, then returns: a subject that waits for a receipt holds up nothing else, and one that
//! appears (a new `begin`, an event) is driven on the next tick, not after the slowest drive of
//! the pass before. A pass that finds a subject still being driven asks that drive to run once
//! more when it ends: what triggered the pass (an event the drive's own action caused, say) may
//! have come after the drive read the state. What the drives found is collected for the next
//! pass: the errors (the subject is driven again then) and a test hook's halt, after which
//! nothing more starts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use alloy::primitives::B256;
use tokio::task::JoinSet;

use super::{EngineError, ProtocolPoint};

#[derive(Debug, Default)]
struct State {
    /// Subjects being driven, each with whether a pass asked for one more run.
    running: HashMap<B256, bool>,
    errors: Vec<(B256, String)>,
    halted: Option<ProtocolPoint>,
}

/// An engine whose open subjects are driven one task each.
pub trait Driven: Send + Sync + 'static {
    /// Drives subject `id` as far as this relayer can now.
    fn drive(&self, id: B256) -> impl Future<Output = Result<(), EngineError>> + Send;
}

/// The drives of one engine.
#[derive(Debug, Default)]
pub struct Drives {
    state: Arc<Mutex<State>>,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Drives {
    /// Starts `drive(id)` for each id not being driven (none once halted); one being driven runs
    /// once more when it ends. Returns what drives met since the last call: the errors, or the
    /// halt.
    pub fn start<F, Fut>(
        &self,
        ids: impl IntoIterator<Item = B256>,
        drive: F,
    ) -> Result<Vec<(B256, String)>, EngineError>
    where
        F: Fn(B256) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<(), EngineError>> + Send + 'static,
    {
        let mut tasks = lock(&self.tasks);
        // Finished tasks are reaped here, so the set holds only running ones.
        while tasks.try_join_next().is_some() {}
        let mut state = lock(&self.state);
        if let Some(point) = state.halted {
            return Err(EngineError::Halted(point));
        }
        for id in ids {
            if let Some(again) = state.running.get_mut(&id) {
                *again = true;
                continue;
            }
            state.running.insert(id, false);
            let (shared, all, drive) = (self.state.clone(), self.tasks.clone(), drive.clone());
            tasks.spawn(async move {
                loop {
                    let result = drive(id).await;
                    let mut state = lock(&shared);
                    match result {
                        Ok(()) => {}
                        // A halt stops every drive at once, as a crash would; the halted subject
                        // stays "running", so nothing drives it again.
                        Err(EngineError::Halted(point)) => {
                            state.halted.get_or_insert(point);
                            drop(state);
                            lock(&all).abort_all();
                            return;
                        }
                        Err(err) => {
                            tracing::warn!(subject = %id, %err, "cannot drive now");
                            state.errors.push((id, err.to_string()));
                        }
                    }
                    match state.running.get_mut(&id) {
                        Some(again) if *again => *again = false,
                        _ => {
                            state.running.remove(&id);
                            return;
                        }
                    }
                }
            });
        }
        Ok(std::mem::take(&mut state.errors))
    }

    /// [`Drives::start`] with `engine`'s own drive.
    pub fn start_engine<E: Driven>(
        &self,
        engine: &Arc<E>,
        ids: impl IntoIterator<Item = B256>,
    ) -> Result<Vec<(B256, String)>, EngineError> {
        let engine = engine.clone();
        self.start(ids, move |id| {
            let engine = engine.clone();
            async move { engine.drive(id).await }
        })
    }

    /// The test hook's halt, once a drive met it.
    pub fn halted(&self) -> Option<ProtocolPoint> {
        lock(&self.state).halted
    }

    /// Stops every drive at once, mid-action if need be (a crash, for tests).
    pub fn abort(&self) {
        lock(&self.tasks).abort_all();
    }

    /// Waits for the running drives to finish (a graceful stop); nothing new starts meanwhile
    /// unless `start` is called.
    pub async fn finish(&self) {
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        while tasks.join_next().await.is_some() {}
    }
}
