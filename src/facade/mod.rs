//! The `metrics` facade: the registry as a [`metrics::Recorder`]. Every macro call goes
//! through the same policy as the typed API.

pub(crate) mod cache;
mod recorder;

pub use recorder::FacadeRecorder;
