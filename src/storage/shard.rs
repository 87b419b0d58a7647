//! Per-thread shard selection for cells that many threads update at once.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use once_cell::sync::Lazy;

/// Shards per sharded cell: the available parallelism rounded up to a power of two, at most 8.
pub(crate) static SHARDS: Lazy<usize> =
    Lazy::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()).next_power_of_two().min(8));

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// A small number fixed for the calling thread, handed out round-robin, so threads that
/// start together land on different shards.
#[inline]
pub(crate) fn thread_index() -> usize {
    THREAD_INDEX.with(|c| {
        let v = c.get();
        if v != usize::MAX {
            v
        } else {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            c.set(n);
            n
        }
    })
}
