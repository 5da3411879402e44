//! The device database on a thread of its own. Commands hand it jobs and await the answer, so
//! no SQLite call runs on the main (UI) thread or on an async runtime's worker; every lock of
//! the store here asserts that in debug builds. The sync engine shares the store through the
//! same mutex from its own blocking tasks.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use zhisu_app_api::CommandError;
use zhisu_store::{DatabaseKey, DeviceStore, StoreError};

use crate::error::{internal, Failure};
use crate::questionnaires::Catalogue;

/// The name of the database thread.
pub const THREAD: &str = "zhisu-db";

type Job = Box<dyn FnOnce(&mut DeviceStore, &mut Catalogue) + Send>;

/// Hands jobs to the database thread.
pub struct Db {
    jobs: mpsc::Sender<Job>,
}

/// Panics (in debug builds) when the caller is the main thread or an async runtime's thread:
/// SQLite calls block, and there they would freeze the screen or the runtime.
pub fn assert_off_the_async_runtime() {
    let thread = std::thread::current();
    debug_assert_ne!(thread.name(), Some("main"), "SQLite on the main thread");
    debug_assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "SQLite on an async runtime thread ({:?})",
        thread.name()
    );
}

/// Locks the store for a SQLite call.
pub fn lock(store: &Mutex<DeviceStore>) -> MutexGuard<'_, DeviceStore> {
    assert_off_the_async_runtime();
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl Db {
    /// Opens the database at `path` with `key` on a new database thread that also holds
    /// `catalogue` (encrypting a plain database left by an older app first). Returns the handle
    /// and the store for the sync engine.
    pub fn open(
        path: &Path,
        key: DatabaseKey,
        catalogue: Catalogue,
    ) -> Result<(Db, Arc<Mutex<DeviceStore>>), StoreError> {
        let path = path.to_path_buf();
        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(THREAD.into())
            .spawn(move || {
                assert_off_the_async_runtime();
                let store = match DeviceStore::open(&path, &key) {
                    Ok(store) => Arc::new(Mutex::new(store)),
                    Err(e) => return drop(opened_tx.send(Err(e))),
                };
                let _ = opened_tx.send(Ok(Arc::clone(&store)));
                serve(&store, catalogue, queue);
            })
            .expect("the database thread starts");
        let store = opened_rx
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the database thread died".into())))?;
        Ok((Db { jobs }, store))
    }

    /// Runs `job` on the database thread and returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut DeviceStore, &mut Catalogue) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, CommandError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |store, catalogue| {
                let _ = answer.send(job(store, catalogue));
            }))
            .map_err(|_| internal("the database thread has stopped"))?;
        match answered.await {
            Ok(result) => result.map_err(CommandError::from),
            Err(_) => Err(internal("a database job failed without an answer")),
        }
    }
}

/// The database thread: one job at a time until every handle is gone. A job that panics is
/// logged and answered as an internal error; the thread goes on.
fn serve(store: &Mutex<DeviceStore>, mut catalogue: Catalogue, queue: mpsc::Receiver<Job>) {
    for job in queue {
        let mut guard = lock(store);
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut guard, &mut catalogue)));
        if ran.is_err() {
            tracing::error!("a database job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[should_panic(expected = "SQLite on an async runtime thread")]
    #[cfg(debug_assertions)]
    async fn the_store_cannot_be_locked_on_the_async_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, store) = Db::open(
            &dir.path().join("d.sqlite3"),
            DatabaseKey::from_bytes([9; 32]),
            Catalogue::new(None).unwrap(),
        )
        .unwrap();
        let _ = lock(&store).surveyors();
    }

    #[test]
    fn jobs_run_on_the_database_thread_and_a_panic_does_not_stop_it() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _store) = Db::open(
            &dir.path().join("d.sqlite3"),
            DatabaseKey::from_bytes([9; 32]),
            Catalogue::new(None).unwrap(),
        )
        .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let thread = db
                .run(|_, _| Ok(std::thread::current().name().map(String::from)))
                .await
                .unwrap();
            assert_eq!(thread.as_deref(), Some(THREAD));
            let failed = db
                .run(|_, _| -> Result<(), Failure> { panic!("a bug") })
                .await;
            assert_eq!(failed.unwrap_err().code, zhisu_app_api::ErrorCode::Internal);
            let surveyors = db.run(|store, _| Ok(store.surveyors()?)).await.unwrap();
            assert!(surveyors.is_empty());
        });
    }
}
