//! Bounded means bounded in bytes too: label values of any length may be resolved, through the
//! typed API or the facade, and what the registry keeps for them grows with the capped length
//! (128 bytes by default), never with the length given.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use codomyrmex_metrics::{get_metrics, Backend, Registry};

/// Bytes allocated and not yet freed, process-wide (the tests take turns: see `my_turn`).
struct Live;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Live = Live;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The tests of this file take turns: the count of live bytes is process-wide.
fn my_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes still held after `f` (what it keeps, not what it used on the way).
fn live_bytes_after(f: impl FnOnce()) -> isize {
    let before = LIVE.load(Ordering::SeqCst);
    f();
    LIVE.load(Ordering::SeqCst) - before
}

/// 5,000 distinct values of 10 KB each (distinct within their first bytes, so each is a
/// series of its own until the per-metric limit).
fn long_values() -> Vec<String> {
    (0..5_000).map(|i| format!("{i:05}-{}", "x".repeat(10_000))).collect()
}

const BUDGET: isize = 8 << 20;

#[test]
fn typed_label_values_of_any_length_are_kept_capped() {
    let _turn = my_turn();
    let values = long_values();
    let registry = Registry::default();
    let family = registry.counter_family("long", "Long values.", &["v"]).unwrap();
    let kept = live_bytes_after(|| {
        for v in &values {
            family.with(&[v]).inc();
        }
    });
    // 2,000 series of at most 128-byte values, the overflow series, the caches: well under
    // BUDGET. Keeping the raw 10 KB values would take 40 MB.
    assert!(kept < BUDGET, "the registry kept {kept} bytes for 5,000 long values");
    assert_eq!(family.series_count(), 2_000);
}

#[test]
fn facade_label_values_of_any_length_are_kept_capped() {
    let _turn = my_turn();
    let values = long_values();
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let recorder = metrics.recorder();
    let kept = live_bytes_after(|| {
        metrics::with_local_recorder(&recorder, || {
            for v in &values {
                metrics::counter!("long_facade", "v" => v.clone()).increment(1);
            }
        })
    });
    assert!(kept < BUDGET, "the registry kept {kept} bytes for 5,000 long values");
}

#[test]
fn long_facade_names_are_kept_capped() {
    let _turn = my_turn();
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let recorder = metrics.recorder();
    let kept = live_bytes_after(|| {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..2_000 {
                let name = format!("n{i:05}{}", "y".repeat(10_000));
                metrics::describe_counter!(name.clone(), "Described.");
                metrics::counter!(name).increment(1);
            }
        })
    });
    // Names are cut to 200 bytes; the facade's name map and descriptions must not keep more.
    assert!(kept < BUDGET, "the registry kept {kept} bytes for 2,000 long names");
}
