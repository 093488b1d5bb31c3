//! The default place for CPU-heavy work on native targets: a pool of threads the crate owns,
//! started on first use, one per core (at least two). Works queue when every thread is busy,
//! so concurrent uploads never start more encoders than the machine has cores. A job that
//! panics ends only itself; its thread goes on with the next.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

/// A unit of work on the pool (what [`DeltaConfig::offload`](crate::DeltaConfig::offload)
/// calls a `Job`).
type Work = Box<dyn FnOnce() + Send + 'static>;

/// Queues `job` on the shared pool.
pub(crate) fn spawn(job: Work) {
    static QUEUE: OnceLock<Mutex<Sender<Work>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(start);
    let sent = queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .send(job);
    // Every worker gone (they never exit): the job is dropped, and its request answers
    // "a background job crashed" rather than waiting forever.
    drop(sent);
}

fn start() -> Mutex<Sender<Work>> {
    let (sender, receiver) = channel::<Work>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .max(2);
    for i in 0..threads {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("deltaglider-encode-{i}"))
            .spawn(move || work(&receiver));
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start an encoding thread");
        }
    }
    Mutex::new(sender)
}

fn work(receiver: &Mutex<Receiver<Work>>) {
    loop {
        let job = receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        let Ok(job) = job else {
            return;
        };
        // The job's own result slot reports the panic to its request.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}
