//! The hook's token: the cell that holds it (replaceable while the hook runs), a fresh
//! one, and the constant-time comparison every check of it goes through.

use std::sync::{Arc, PoisonError, RwLock};

use crate::domain::Secret;

/// The hook's token, replaceable while it runs ("New token" in the settings).
#[derive(Debug, Clone)]
pub struct TokenCell(Arc<RwLock<Secret>>);

impl TokenCell {
    /// A cell holding `token`.
    pub fn new(token: Secret) -> Self {
        Self(Arc::new(RwLock::new(token)))
    }

    /// The token now.
    pub fn get(&self) -> Secret {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// True when `shown` is the token now (compared in constant time).
    pub fn matches(&self, shown: &[u8]) -> bool {
        let token = self.0.read().unwrap_or_else(PoisonError::into_inner);
        same_bytes(shown, token.expose().as_bytes())
    }

    /// Replaces the token; requests with the old one are refused from now on.
    pub fn set(&self, token: Secret) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = token;
    }
}

/// A fresh random token: 32 hex digits.
pub fn new_token() -> Secret {
    use rand::Rng as _;
    let mut rng = rand::rng();
    Secret::new(
        (0..32)
            .map(|_| format!("{:x}", rng.random_range(0..16_u8)))
            .collect::<String>(),
    )
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
