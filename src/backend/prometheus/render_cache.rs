//! Rendering off the async workers, once for any number of concurrent scrapes.
//!
//! A scrape waits for the one render in progress, then reuses it if that render started after
//! the scrape arrived (so it is never stale); otherwise it renders, on the blocking pool.

use std::io::Write as _;
use std::time::Instant;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::export::Format;
use crate::registry::{Event, Registry};

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

pub(crate) struct RenderCache {
    registry: Registry,
    state: tokio::sync::Mutex<State>,
}

fn slot(format: Format, gzip: bool) -> usize {
    usize::from(format == Format::OpenMetrics) * 2 + usize::from(gzip)
}

impl RenderCache {
    pub(crate) fn new(registry: Registry) -> Self {
        Self { registry, state: tokio::sync::Mutex::new(State::default()) }
    }

    /// The body for `format`, gzipped if asked, rendered no earlier than `arrived`.
    pub(crate) async fn get(&self, format: Format, gzip: bool, arrived: Instant) -> Bytes {
        let mut state = self.state.lock().await;
        let i = slot(format, gzip);
        if let Some(e) = &state.entries[i] {
            if e.started >= arrived {
                self.registry.self_metrics().record(Event::ScrapeRenderShared);
                return e.body.clone();
            }
        }
        self.registry.self_metrics().record(Event::ScrapeRendered);
        let started = Instant::now();
        let registry = self.registry.clone();
        let mut buffer = std::mem::take(&mut state.buffer);
        let rendered = tokio::task::spawn_blocking(move || {
            registry.render_into(format, &mut buffer);
            let body = if gzip {
                let mut enc = GzEncoder::new(Vec::with_capacity(buffer.len() / 4), Compression::fast());
                let _ = enc.write_all(buffer.as_bytes());
                Bytes::from(enc.finish().unwrap_or_default())
            } else {
                Bytes::copy_from_slice(buffer.as_bytes())
            };
            (body, buffer)
        })
        .await;
        let body = match rendered {
            Ok((body, buffer)) => {
                state.buffer = buffer;
                body
            }
            Err(_) => Bytes::new(),
        };
        state.entries[i] = Some(Entry { started, body: body.clone() });
        body
    }
}
