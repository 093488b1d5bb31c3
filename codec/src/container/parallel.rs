//! Independent work items run on every core where there are threads (natively), in order
//! where there are none (wasm32). Results come back in the items' order either way.

/// `f` applied to each item, results in order; on up to `available_parallelism` threads.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn map<T: Sync, R: Send + Sync>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<R>> = items.iter().map(|_| OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let _ = slots[i].set(f(item));
                }
            });
        }
    });
    // `scope` returns only after every thread ended without panicking (it re-raises a
    // thread's panic), and together they took every index: every slot is set.
    slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("every item was run"))
        .collect()
}

/// `f` applied to each item, in order (no threads here).
#[cfg(target_arch = "wasm32")]
pub(super) fn map<T: Sync, R: Send + Sync>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    items.iter().map(f).collect()
}
