//! The one place that wires effects together: settings and credentials, the outbox, the
//! Pyrus client and the browser. The CLI drives an [`Engine`] directly; the window talks to
//! a [`Service`] running on tokio through the `bus`.

mod doctor;
mod engine;
pub mod pickup;
mod recording;
pub mod stitch;
mod window;

pub use doctor::Sources;
pub use engine::{CredentialsError, Engine, PumpError};
pub use recording::{RecordingError, check_recording};
pub use window::{EngineFactory, Service, ServiceHandle, Setup};
