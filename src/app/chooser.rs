//! Picking a recording without ever freezing the window: the system's file dialog is a
//! future polled once per frame (woken by a repaint), and where the desktop has no dialog
//! at all (no portal, no zenity) the window's own chooser opens instead, in the recordings
//! folder with the newest files first.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Instant, SystemTime};

use crate::domain::{AUDIO_EXTENSIONS, CallRowId, check_recording_name};
use crate::ui::i18n::Texts;

/// The system's dialog, answered later.
pub type NativePick = Pin<Box<dyn Future<Output = Option<PathBuf>>>>;

/// How a recording will be picked.
pub enum Chooser {
    /// The system's dialog.
    Native(NativePick),
    /// The window's own chooser (the desktop has no dialog to offer).
    BuiltIn,
}

/// Chooses how to pick a recording: the system's dialog where the desktop has one.
pub type Picker = Box<dyn FnMut(&'static Texts, Option<&Path>) -> Chooser>;

/// The system's file dialog (rfd), or the built-in chooser where the desktop probe found
/// none.
pub fn system_chooser(t: &'static Texts, dir: Option<&Path>) -> Chooser {
    chooser_for(crate::platform::desktop::has_file_dialog(), t, dir)
}

/// The system's file dialog when the desktop `has_dialog`, else the built-in chooser: the
/// decision itself, for any answer of the probe.
pub fn chooser_for(has_dialog: bool, t: &'static Texts, dir: Option<&Path>) -> Chooser {
    if !has_dialog {
        return Chooser::BuiltIn;
    }
    let mut dialog = rfd::AsyncFileDialog::new()
        .set_title(t.picker_title)
        .add_filter(t.picker_filter, &AUDIO_EXTENSIONS);
    if let Some(dir) = dir {
        dialog = dialog.set_directory(dir);
    }
    let pick = dialog.pick_file();
    Chooser::Native(Box::pin(async move {
        pick.await.map(|file| file.path().to_path_buf())
    }))
}

/// Wakes the window when the dialog has answered.
struct Repaint(egui::Context);

impl Wake for Repaint {
    fn wake(self: Arc<Self>) {
        self.0.request_repaint();
    }
}

/// A system dialog open for a call.
pub struct NativePicking {
    /// The call the recording is for.
    pub row: CallRowId,
    /// When the dialog was asked for.
    pub started: Instant,
    pick: NativePick,
}

impl NativePicking {
    /// Starts following `pick` for `row`.
    pub fn new(row: CallRowId, pick: NativePick) -> Self {
        Self {
            row,
            started: Instant::now(),
            pick,
        }
    }

    /// The dialog's answer, once there is one; never waits.
    pub fn poll(&mut self, ctx: &egui::Context) -> Poll<Option<PathBuf>> {
        let waker = Waker::from(Arc::new(Repaint(ctx.clone())));
        self.pick.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

/// The window's own chooser, open for a call.
pub struct BuiltInPicking {
    /// The call the recording is for.
    pub row: CallRowId,
    dialog: egui_file::FileDialog,
}

/// What the built-in chooser says this frame.
pub enum BuiltInAnswer {
    /// Still open.
    Open,
    /// The agent picked this file.
    Picked(PathBuf),
    /// The agent closed it.
    Cancelled,
}

impl BuiltInPicking {
    /// Opens the chooser in `dir` (else the home folder), showing audio files newest first.
    pub fn open(row: CallRowId, t: &Texts, dir: Option<&Path>) -> Self {
        let start = dir
            .filter(|d| d.is_dir())
            .map(Path::to_path_buf)
            .or_else(|| directories::UserDirs::new().map(|u| u.home_dir().to_path_buf()))
            .unwrap_or_else(|| PathBuf::from("."));
        let mut dialog = egui_file::FileDialog::open_file()
            .initial_path(start)
            .title(t.picker_title)
            .open_button_text(t.picker_open.into())
            .cancel_button_text(t.picker_cancel.into())
            .file_label_text(t.picker_file.into())
            .show_hidden_checkbox_text(t.picker_hidden.into())
            .refresh_button_hover_text(t.picker_refresh.into())
            .parent_folder_button_hover_text(t.picker_parent.into())
            .show_rename(false)
            .show_new_folder(false)
            .show_files_filter(Box::new(|p: &Path| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| check_recording_name(n).is_ok())
            }))
            .with_fs(Box::new(NewestFirst))
            .default_size([560.0, 420.0])
            .id(egui::Id::unique("recording_chooser"));
        dialog.open();
        Self { row, dialog }
    }

    /// Draws the chooser; says whether a file was picked.
    pub fn show(&mut self, ctx: &egui::Context) -> BuiltInAnswer {
        self.dialog.show(ctx);
        match self.dialog.state() {
            egui_file::State::Open => BuiltInAnswer::Open,
            egui_file::State::Selected => {
                self.dialog.path().map_or(BuiltInAnswer::Cancelled, |p| {
                    BuiltInAnswer::Picked(p.to_path_buf())
                })
            }
            egui_file::State::Closed | egui_file::State::Cancelled => BuiltInAnswer::Cancelled,
        }
    }
}

/// The file system as the chooser lists it: folders first, then files newest first (the
/// recording of the call just ended is on top).
#[derive(Debug, Clone, Copy)]
struct NewestFirst;

/// One listed entry.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    name: String,
    dir: bool,
    file: bool,
    modified: Option<SystemTime>,
    selected: bool,
}

impl egui_file::vfs::VfsFile for Entry {
    fn is_file(&self) -> bool {
        self.file
    }

    fn is_dir(&self) -> bool {
        self.dir
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn selected(&self) -> bool {
        self.selected
    }

    fn set_selected(&mut self, selected: bool) {
        self.selected = selected;
    }

    fn get_file_name(&self) -> &str {
        &self.name
    }
}

impl egui_file::vfs::Vfs for NewestFirst {
    fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }

    fn read_folder(
        &self,
        path: &Path,
        _show_system_files: bool,
        show_files_filter: &egui_file::Filter<PathBuf>,
        #[cfg(unix)] show_hidden: bool,
        #[cfg(windows)] _show_drives: bool,
    ) -> std::io::Result<Vec<Box<dyn egui_file::vfs::VfsFile>>> {
        let mut entries: Vec<Entry> = std::fs::read_dir(path)?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                #[cfg(unix)]
                if !show_hidden && name.starts_with('.') {
                    return None;
                }
                let meta = std::fs::metadata(&path).ok()?;
                if meta.is_file() && !show_files_filter(&path) {
                    return None;
                }
                Some(Entry {
                    name,
                    dir: meta.is_dir(),
                    file: meta.is_file(),
                    modified: meta.modified().ok(),
                    selected: false,
                    path,
                })
            })
            .collect();
        entries.sort_by(|a, b| {
            b.dir.cmp(&a.dir).then_with(|| match a.dir {
                true => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                false => b.modified.cmp(&a.modified),
            })
        });
        Ok(entries
            .into_iter()
            .map(|e| Box::new(e) as Box<dyn egui_file::vfs::VfsFile>)
            .collect())
    }
}
