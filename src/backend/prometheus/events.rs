//! The scrape endpoint's own self-metrics, registered when a handler is made.

use crate::registry::self_events;

self_events! {
    /// What became of a scrape request or connection, and of each render.
    pub enum ScrapeEvent, help: help {
        Served => ("scrapes", "served"),
        Unauthorized => ("scrapes", "unauthorized"),
        Forbidden => ("scrapes", "forbidden"),
        RateLimited => ("scrapes", "rate_limited"),
        Overloaded => ("scrapes", "overloaded"),
        ConnectionLimit => ("scrapes", "connection_limit"),
        NotFound => ("scrapes", "not_found"),
        MethodNotAllowed => ("scrapes", "method_not_allowed"),
        Timeout => ("scrapes", "timeout"),
        TlsHandshake => ("scrapes", "tls_handshake_failed"),
        ClientName => ("scrapes", "client_name_refused"),
        RenderFailed => ("scrapes", "render_failed"),
        HostRefused => ("scrapes", "host_refused"),
        Rendered => ("scrape_renders", "rendered"),
        RenderShared => ("scrape_renders", "shared"),
    }
}

fn help(family: &str) -> &'static str {
    match family {
        "scrape_renders" => "Scrapes that rendered the registry, and scrapes that shared a render already under way.",
        _ => "Scrape requests and connections of the Prometheus endpoint: served, or why refused.",
    }
}
