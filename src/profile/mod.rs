//! The profile a run works in, as `main` finds it: where files live, the environment's
//! overrides, a key given in the environment, and how links are opened; and the demo, which
//! runs a profile against the built-in sandbox. The composition root and the front ends
//! (CLI, window) all start from it.

pub mod demo;

use std::sync::Arc;

use crate::domain::Secret;
use crate::platform::browser::Browser;
use crate::platform::paths::Paths;
use crate::settings::EnvOverrides;

/// What every command gets from `main`.
#[derive(Clone)]
pub struct Context {
    /// Where files live.
    pub paths: Paths,
    /// Environment overrides of the settings.
    pub env: EnvOverrides,
    /// `PYRUS_SECURITY_KEY`, when set.
    pub key_override: Option<Secret>,
    /// How links are opened.
    pub browser: Arc<dyn Browser>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}
