//! What the desktop offers the window: whether a system file dialog can open here (an
//! xdg-desktop-portal on the session bus, or zenity), asked once and remembered.

use std::sync::OnceLock;

static FILE_DIALOG: OnceLock<bool> = OnceLock::new();

/// True when the system's file dialog can open, as [`probe_in_background`] found out; never
/// waits (until the probe has answered, the dialog is tried, and the window's own chooser
/// takes over if it does not come up).
pub fn has_file_dialog() -> bool {
    FILE_DIALOG.get().copied().unwrap_or(true)
}

/// What the probe found, once it has answered.
pub fn probed() -> Option<bool> {
    FILE_DIALOG.get().copied()
}

/// Finds out whether a file dialog exists, on a thread of its own.
pub fn probe_in_background() {
    let spawned = std::thread::Builder::new()
        .name("desktop-probe".into())
        .spawn(|| FILE_DIALOG.get_or_init(probe_file_dialog));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot probe the desktop's file dialog");
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn probe_file_dialog() -> bool {
    let zenity = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("zenity").is_file()));
    let portal = portal_on_bus();
    tracing::info!(portal, zenity, "system file dialog");
    portal || zenity
}

/// True when the session bus has (or can start) the desktop portal.
#[cfg(all(unix, not(target_os = "macos")))]
fn portal_on_bus() -> bool {
    const PORTAL: &str = "org.freedesktop.portal.Desktop";
    let Ok(conn) = zbus::blocking::Connection::session() else {
        return false;
    };
    let Ok(bus) = zbus::blocking::fdo::DBusProxy::new(&conn) else {
        return false;
    };
    let Ok(name) = zbus::names::BusName::try_from(PORTAL) else {
        return false;
    };
    bus.name_has_owner(name).unwrap_or(false)
        || bus
            .list_activatable_names()
            .is_ok_and(|names| names.iter().any(|n| n.as_str() == PORTAL))
}

/// Windows and macOS always have their own dialog.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn probe_file_dialog() -> bool {
    true
}
