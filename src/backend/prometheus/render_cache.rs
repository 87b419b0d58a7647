//! Rendering off the async workers, once for any number of concurrent scrapes.
//!
//! A scrape waits for the one render in progress, then reuses it if that render started after
//! the scrape arrived (so it is never stale); otherwise it renders, on the blocking pool.

use std::io::Write as _;
use std::time::Instant;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::events::ScrapeEvent;
use crate::export::Format;
use crate::registry::{Registry, SelfCounters};

struct Entry {
    started: Instant,
    body: Bytes,
}

#[derive(Default)]
struct State {
    /// By (format, gzip).
    entries: [Option<Entry>; 4],
    buffer: String,
}

/// Writes the registry in a format into a buffer (the registry's own render; tests give one
/// that fails).
pub(crate) type RenderFn = std::sync::Arc<dyn Fn(Format, &mut String) + Send + Sync>;

/// A render that did not produce a body: the handler answers 500, never an empty 200 (which
/// Prometheus would read as every series gone).
#[derive(Debug)]
pub(crate) struct RenderFailed;

pub(crate) struct RenderCache {
    events: SelfCounters<ScrapeEvent>,
    render: RenderFn,
    state: tokio::sync::Mutex<State>,
}

fn slot(format: Format, gzip: bool) -> usize {
    usize::from(format == Format::OpenMetrics) * 2 + usize::from(gzip)
}

impl RenderCache {
    pub(crate) fn new(registry: Registry) -> Self {
        let r = registry.clone();
        Self::with_render(registry, std::sync::Arc::new(move |format, out| r.render_into(format, out)))
    }

    pub(crate) fn with_render(registry: Registry, render: RenderFn) -> Self {
        let events = registry.self_metrics().register_own::<ScrapeEvent>();
        Self { events, render, state: tokio::sync::Mutex::new(State::default()) }
    }

    /// The body for `format`, gzipped if asked, rendered no earlier than `arrived`.
    ///
    /// # Errors
    /// [`RenderFailed`] when the render panicked or could not be compressed; nothing is cached
    /// then, and the next scrape renders again.
    pub(crate) async fn get(&self, format: Format, gzip: bool, arrived: Instant) -> Result<Bytes, RenderFailed> {
        let mut state = self.state.lock().await;
        let i = slot(format, gzip);
        if let Some(e) = &state.entries[i] {
            if e.started >= arrived {
                self.events.record(ScrapeEvent::RenderShared);
                return Ok(e.body.clone());
            }
        }
        self.events.record(ScrapeEvent::Rendered);
        let started = Instant::now();
        let render = std::sync::Arc::clone(&self.render);
        let mut buffer = std::mem::take(&mut state.buffer);
        let rendered = tokio::task::spawn_blocking(move || {
            render(format, &mut buffer);
            let body = if gzip {
                let mut enc = GzEncoder::new(Vec::with_capacity(buffer.len() / 4), Compression::fast());
                enc.write_all(buffer.as_bytes()).and_then(|()| enc.finish()).map(Bytes::from)
            } else {
                Ok(Bytes::copy_from_slice(buffer.as_bytes()))
            };
            (body, buffer)
        })
        .await;
        // A panicked render loses its buffer (a new one is made next time) and caches nothing.
        let Ok((body, buffer)) = rendered else { return Err(RenderFailed) };
        state.buffer = buffer;
        let body = body.map_err(|_| RenderFailed)?;
        state.entries[i] = Some(Entry { started, body: body.clone() });
        Ok(body)
    }
}
