//! A counting global allocator: `inc`, `set` and `observe` on resolved handles, and cached
//! labeled lookups, allocate nothing; a repeat render into the same buffer (collectors
//! included) allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use codomyrmex_metrics::{Buckets, Format, Registry};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted. Only the measuring thread's are: the
    /// test harness's main thread does its own bookkeeping while the test starts, and its
    /// allocations once failed this test (4 of them, in about 1 run in 50).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    COUNTED.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    let n = ALLOCATIONS.load(Ordering::SeqCst) - before;
    COUNTED.with(|c| c.set(false));
    n
}

#[test]
fn resolved_handles_and_repeat_renders_allocate_nothing() {
    let r = Registry::default();
    let c = r.counter("c", "h").unwrap();
    let g = r.gauge("g", "h").unwrap();
    let h = r.histogram("h", "h", Buckets::default()).unwrap();
    let fam = r.counter_family("f", "h", &["a", "b", "c"]).unwrap();
    let hf = r.histogram_family("hf", "h", &["route"], Buckets::default()).unwrap();
    // Twice: a new label set waits in its family's young table until its next lookup moves
    // it (and the young series with it) into the table lookups read, which may grow then.
    for _ in 0..2 {
        fam.inc(&["x", "y", "z"]);
        hf.observe(&["/"], 1.0);
    }
    let m = codomyrmex_metrics::get_metrics(codomyrmex_metrics::Backend::InMemory).unwrap();
    let fc = metrics::with_local_recorder(&m.recorder(), || metrics::counter!("facade", "k" => "v"));

    let n = allocations_in(|| {
        for i in 0..10_000 {
            c.inc();
            c.inc_by(3);
            c.inc_by_f64(0.5);
            g.set(f64::from(i));
            g.inc();
            g.dec_by(0.25);
            h.observe(f64::from(i) / 1000.0);
            fam.inc(&["x", "y", "z"]);
            hf.observe(&["/"], 0.1);
            fc.increment(1);
        }
    });
    assert_eq!(n, 0, "allocations on the hot path");

    // A collector runs before each render; running it must not allocate either.
    let collected = g.clone();
    r.register_collector(move || collected.set(42.0)).unwrap();
    let mut buf = String::new();
    r.render_into(Format::PrometheusText, &mut buf);
    r.render_into(Format::OpenMetrics, &mut buf);
    let n = allocations_in(|| {
        r.render_into(Format::PrometheusText, &mut buf);
        r.render_into(Format::OpenMetrics, &mut buf);
    });
    assert_eq!(n, 0, "allocations on a repeat render");
}
