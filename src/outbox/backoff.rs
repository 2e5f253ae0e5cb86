//! When to try a failed job again: jittered exponential backoff, never sooner than the
//! server asked.

use std::time::Duration;

use rand::Rng as _;

/// First retry delay.
pub const BASE: Duration = Duration::from_secs(1);
/// Longest delay between two attempts.
pub const CAP: Duration = Duration::from_secs(300);

/// The delay before attempt `attempts + 1`, given that `attempts` have failed: `BASE·2^(n-1)`
/// capped at `CAP`, scaled by a random factor in [0.5, 1], and at least `server_asked`.
pub fn delay(attempts: u32, server_asked: Option<Duration>) -> Duration {
    let exp = attempts.saturating_sub(1).min(16);
    let full = BASE.saturating_mul(1 << exp).min(CAP);
    let jitter = rand::rng().random_range(0.5..=1.0);
    let chosen = full.mul_f64(jitter);
    match server_asked {
        Some(asked) => chosen.max(asked),
        None => chosen,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{CAP, delay};

    #[test]
    fn grows_and_caps() {
        for attempts in 1..40 {
            let d = delay(attempts, None);
            let full = Duration::from_secs(1 << (attempts - 1).min(16)).min(CAP);
            assert!(d <= full && d >= full / 2, "{attempts}: {d:?}");
        }
    }

    #[test]
    fn honours_the_server() {
        assert!(delay(1, Some(Duration::from_secs(60))) >= Duration::from_secs(60));
    }
}
