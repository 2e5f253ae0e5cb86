//! Where the security key lives: the OS keyring (Secret Service, Keychain, Credential
//! Manager), or memory in unit tests. The only file that names `keyring`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::domain::Secret;

pub use crate::domain::KEYRING_SERVICE;

/// The keyring entry holding the event hook's token (logins are e-mail addresses, so this
/// name never meets one).
pub const HOOK_TOKEN_ENTRY: &str = "event-hook-token";

/// The keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the system keyring is not available ({reason}); the security key was not stored. {hint}, or set PYRUS_SECURITY_KEY for this run",
    hint = KEYRING_HINT
)]
pub struct SecretError {
    /// What the keyring said.
    pub reason: String,
}

/// A place for security keys, one per login.
pub trait SecretStore: Send + Sync {
    /// The key stored for `login`, if any.
    fn get(&self, login: &str) -> Result<Option<Secret>, SecretError>;
    /// Stores (or replaces) the key for `login`.
    fn set(&self, login: &str, key: &Secret) -> Result<(), SecretError>;
    /// Removes the key for `login`; no error when there is none.
    fn delete(&self, login: &str) -> Result<(), SecretError>;
    /// A name for messages ("system keyring", "memory").
    fn name(&self) -> &'static str;
}

/// What to start where the keyring is missing, on this platform.
#[cfg(all(unix, not(target_os = "macos")))]
const KEYRING_HINT: &str = "Start a Secret Service keyring (gnome-keyring or KWallet)";
#[cfg(target_os = "macos")]
const KEYRING_HINT: &str = "Unlock the login keychain (Keychain Access)";
#[cfg(windows)]
const KEYRING_HINT: &str = "Check that Credential Manager runs for this user";
#[cfg(not(any(unix, windows)))]
const KEYRING_HINT: &str = "Start the system keyring";

/// The OS keyring, under one profile's service name: [`KEYRING_SERVICE`] for the user's
/// own profile, a name of its own for a profile under `PYRUS_PHONE_HOME` (so a test or a
/// second profile never reads or overwrites the user's own entries).
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// The keyring entries under `service` (see [`crate::platform::paths::Paths::keyring_service`]).
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The service name the entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, login: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, login).map_err(|e| SecretError {
            reason: e.to_string(),
        })
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, login: &str) -> Result<Option<Secret>, SecretError> {
        match self.entry(login)?.get_password() {
            Ok(key) => Ok(Some(Secret::new(key))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError {
                reason: e.to_string(),
            }),
        }
    }

    fn set(&self, login: &str, key: &Secret) -> Result<(), SecretError> {
        self.entry(login)?
            .set_password(key.expose())
            .map_err(|e| SecretError {
                reason: e.to_string(),
            })
    }

    fn delete(&self, login: &str) -> Result<(), SecretError> {
        match self.entry(login)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError {
                reason: e.to_string(),
            }),
        }
    }

    fn name(&self) -> &'static str {
        "system keyring"
    }
}

/// Keys in memory only: for unit tests and for one demo run.
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, Secret>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, login: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(login)
            .cloned())
    }

    fn set(&self, login: &str, key: &Secret) -> Result<(), SecretError> {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(login.to_owned(), key.clone());
        Ok(())
    }

    fn delete(&self, login: &str) -> Result<(), SecretError> {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(login);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::{MemoryStore, SecretStore};
    use crate::domain::Secret;

    #[test]
    fn memory_store_keeps_one_key_per_login() {
        let store = MemoryStore::default();
        assert!(store.get("a").unwrap().is_none());
        store.set("a", &Secret::new("k1")).unwrap();
        store.set("b", &Secret::new("k2")).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose(), "k1");
        store.delete("a").unwrap();
        assert!(store.get("a").unwrap().is_none());
        assert_eq!(store.get("b").unwrap().unwrap().expose(), "k2");
    }
}
