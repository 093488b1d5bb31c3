//! Running CPU-heavy work (delta encoding and its verification) off the async executor's
//! threads. An encode takes up to a second per 100 MB; run inline, it would hold an
//! executor thread that many requests share. The layer stays runtime-agnostic: the
//! application hands it a spawner (`tokio::task::spawn_blocking`, a thread pool…) through
//! [`DeltaConfig::offload`](crate::DeltaConfig::offload); without one, work runs on the
//! crate's own pool of threads on native targets, and inline on wasm32 (one thread).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A unit of blocking work handed to the spawner.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Where blocking work runs.
#[derive(Clone)]
pub(crate) struct Offload(Option<Arc<dyn Fn(Job) + Send + Sync>>);

impl Default for Offload {
    /// The crate's thread pool where the platform has threads; inline on wasm32.
    fn default() -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            Self::new(super::pool::spawn)
        }
        #[cfg(target_arch = "wasm32")]
        {
            Self::inline()
        }
    }
}

impl Offload {
    /// Work runs inline, in the request's future.
    pub(crate) fn inline() -> Self {
        Self(None)
    }

    pub(crate) fn new(spawn: impl Fn(Job) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(spawn)))
    }

    /// Runs `work` on the spawner (or inline) and waits for its result. `None` if the
    /// spawner dropped the job without running it to the end (it panicked).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let Some(spawn) = &self.0 else {
            return Some(work());
        };
        let slot = Arc::new(Mutex::new(Slot {
            value: None,
            done: false,
            waker: None,
        }));
        let sender = Sender(Arc::clone(&slot));
        spawn(Box::new(move || sender.send(work())));
        Receiver(slot).await
    }
}

impl Offload {
    /// [`Offload::run`], with a job that died turned into a 500 for the request.
    pub(crate) async fn run_or_fail<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::s3::error::S3Error> {
        self.run(work)
            .await
            .ok_or_else(|| crate::s3::error::S3Error::internal("a background job crashed"))
    }
}

impl std::fmt::Debug for Offload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Offload(spawner)"
        } else {
            "Offload(inline)"
        })
    }
}

struct Slot<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> std::sync::MutexGuard<'_, Slot<T>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Completes the slot when dropped, so a job that panics still wakes the waiting request.
struct Sender<T>(Arc<Mutex<Slot<T>>>);

impl<T> Sender<T> {
    fn send(self, value: T) {
        lock(&self.0).value = Some(value);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.done = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

struct Receiver<T>(Arc<Mutex<Slot<T>>>);

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = lock(&self.0);
        if slot.done {
            return Poll::Ready(slot.value.take());
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inline_threaded_and_panicking_jobs() {
        assert_eq!(Offload::inline().run(|| 1 + 1).await, Some(2));
        let pool = Offload::default();
        assert_eq!(pool.run(|| 2 + 2).await, Some(4));
        let threads = Offload::new(|job| {
            std::thread::spawn(job);
        });
        assert_eq!(threads.run(|| "done").await, Some("done"));
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let panicked = threads.run(|| -> u8 { panic!("job failed") }).await;
        std::panic::set_hook(quiet);
        assert_eq!(panicked, None);
        // The pool survives a panicking job.
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        assert_eq!(pool.run(|| -> u8 { panic!("job failed") }).await, None);
        std::panic::set_hook(quiet);
        assert_eq!(pool.run(|| 3).await, Some(3));
    }
}
