//! Desktop notifications for a call that rings while the window is not in front: the
//! freedesktop notification service on Linux (over D-Bus), the toast on Windows, the
//! notification centre on macOS. Clicking it runs the caller's `on_click` (where the
//! platform reports clicks: Linux and Windows; macOS brings the app up itself).

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Its first line.
    pub title: String,
    /// Its text.
    pub body: String,
    /// The label of its default action (shown where the service shows actions).
    pub action: String,
}

/// Shows `note` and follows it on a thread of its own (the window never waits on D-Bus).
pub fn notify(note: Note, on_click: Box<dyn FnOnce() + Send>) {
    let spawned = std::thread::Builder::new()
        .name("notification".into())
        .spawn(move || show_and_follow(&note, on_click));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot show a notification");
    }
}

#[cfg(not(target_os = "macos"))]
fn show_and_follow(note: &Note, on_click: Box<dyn FnOnce() + Send>) {
    let mut notification = notify_rust::Notification::new();
    notification
        .appname("pyrus-phone")
        .summary(&note.title)
        .body(&note.body)
        .action("default", &note.action);
    // Gone by itself after a ringing call's time, so none pile up.
    notification.timeout(notify_rust::Timeout::Milliseconds(60_000));
    #[cfg(all(unix, not(target_os = "macos")))]
    notification
        .icon("call-start")
        .urgency(notify_rust::Urgency::Normal)
        .hint(notify_rust::Hint::Category("im.received".into()));
    match notification.show() {
        Ok(handle) => {
            tracing::info!("notification shown");
            handle.wait_for_action(|action| {
                if action == "default" {
                    tracing::info!("notification clicked");
                    on_click();
                }
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "the desktop's notification service did not take the notification")
        }
    }
}

#[cfg(target_os = "macos")]
fn show_and_follow(note: &Note, _on_click: Box<dyn FnOnce() + Send>) {
    let shown = notify_rust::Notification::new()
        .summary(&note.title)
        .body(&note.body)
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "the notification centre did not take the notification");
    }
}
