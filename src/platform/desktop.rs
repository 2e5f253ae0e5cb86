//! What the desktop offers: whether this session can show a window at all, how a started
//! instance leaves the process that started it, and whether a system file dialog can open
//! here (an xdg-desktop-portal on the session bus, or zenity), asked once and remembered.

use std::sync::OnceLock;

static FILE_DIALOG: OnceLock<bool> = OnceLock::new();

/// True when the system's file dialog can open, as [`probe_in_background`] found out; never
/// waits (until the probe has answered, the dialog is tried, and the window's own chooser
/// takes over if it does not come up).
pub fn has_file_dialog() -> bool {
    FILE_DIALOG.get().copied().unwrap_or(true)
}

/// True when this session can show a window: on Linux an X11 or Wayland display is named;
/// Windows and macOS sessions always can (their GUI apps get no such variables).
pub fn has_graphical_session() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        set("DISPLAY") || set("WAYLAND_DISPLAY")
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        true
    }
}

/// Makes `command` start detached from its parent: its own process group on Unix (a hook's
/// group being ended does not end it), no console and its own group on Windows.
pub fn detach(command: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    }
}

/// The locales the user asked for, most wanted first: on Linux and the BSDs `LC_ALL`,
/// `LC_MESSAGES`, `LANG` (what a terminal and a desktop session set); on Windows and macOS,
/// whose GUI apps get no such variables, the system's own preference list.
pub fn system_locales() -> Vec<String> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .collect()
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        sys_locale::get_locales().collect()
    }
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
