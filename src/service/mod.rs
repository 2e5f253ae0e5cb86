//! The one place that wires effects together: settings and credentials, the outbox, the
//! Pyrus client and the browser. The CLI drives an [`Engine`] directly; the window talks to
//! a [`Service`] running on tokio through the `bus`.

pub mod caller_index;
mod commands;
mod dialling;
mod doctor;
mod engine;
mod heard;
mod history_lane;
mod index_lane;
mod lanes;
mod outcome;
pub mod pickup;
mod pickup_lane;
mod pops;
mod recording;
mod runner;
mod running;
mod sending;
mod settings_ops;
mod setup;
mod shared;
pub mod stitch;
pub mod twinkle;

pub use doctor::Sources;
pub use engine::{CredentialsError, Engine, PumpError};
pub use recording::{RecordingError, check_recording};
pub use runner::{JobEvent, JobReport, Listener, Reach, Runner, Uploads};
pub use running::{SendError, Service, ServiceHandle};
pub use setup::{EngineFactory, Setup};
