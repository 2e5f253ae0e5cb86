//! Files dropped on the window: onto the row under the pointer, or, dropped anywhere else,
//! after asking which call they are for; and `attach_to`, which every way of attaching a
//! file ends in.

use std::path::{Path, PathBuf};

use crate::bus::Command;
use crate::domain::CallRowId;

use super::calls;
use super::i18n::fill;
use super::state::UiState;
use super::widgets::dialog;

/// A file's own name, for the agent to read.
fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Attaches `path` to a call and says so, naming the call.
pub fn attach_to(state: &mut UiState, row: CallRowId, path: PathBuf, commands: &mut Vec<Command>) {
    let t = state.texts();
    state.list.attach_errors.remove(&row);
    let file = file_name(&path).unwrap_or_default();
    let call = state
        .list
        .call(row)
        .map(|c| calls::describe(c, t))
        .unwrap_or_default();
    state.say(fill(t.attaching_to, &[&file, &call]));
    commands.push(Command::AttachRecording { row, path });
}

/// Files dropped on the window go to the row under the pointer; dropped anywhere else,
/// the agent is asked which call they are for.
pub fn drops_ui(ctx: &egui::Context, state: &mut UiState, commands: &mut Vec<Command>) {
    take_drop(ctx, state, commands);
    if !state.list.unplaced_drop.is_empty() {
        which_call_ui(ctx, state, commands);
    }
}

/// Follows a drag over the window and places what it drops.
fn take_drop(ctx: &egui::Context, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    // The row under the pointer is trusted only when the pointer was seen moving over the
    // window during this drag: many desktops report no pointer while another program drags,
    // and a position from before the drag could name the wrong call.
    let (hovering, moving) = ctx.input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.pointer.delta() != egui::Vec2::ZERO,
        )
    });
    if hovering {
        state.list.drag_seen |= moving && ctx.pointer_hover_pos().is_some();
    }
    let dropped = calls::dropped_files(ctx);
    if dropped.is_empty() {
        if !hovering {
            state.list.drag_seen = false;
        }
        return;
    }
    let seen = std::mem::take(&mut state.list.drag_seen);
    match state.list.drop_target.filter(|_| seen) {
        Some(row) => {
            for path in dropped {
                attach_to(state, row, path, commands);
            }
        }
        None if state.list.shown().is_empty() => state.say(t.drop_first),
        // Asked which call; files dropped while asking join the question.
        None => state.list.unplaced_drop.extend(dropped),
    }
}

/// Which call are the dropped files for: the calls shown, and Cancel.
fn which_call_ui(ctx: &egui::Context, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    let names = state
        .list
        .unplaced_drop
        .iter()
        .filter_map(|p| file_name(p))
        .collect::<Vec<_>>()
        .join(", ");
    let mut chosen = None;
    let mut cancel = false;
    dialog(t.which_call).show(ctx, |ui| {
        ui.add(egui::Label::new(fill(t.which_call_text, &[&names])).wrap());
        egui::ScrollArea::vertical()
            .id_salt("which_call")
            .max_height(240.0)
            .show(ui, |ui| {
                for call in state.list.shown().iter().take(20) {
                    if ui.button(calls::describe(call, t)).clicked() {
                        chosen = Some(call.row);
                    }
                }
            });
        if ui.button(t.picker_cancel).clicked() {
            cancel = true;
        }
    });
    if let Some(row) = chosen {
        for path in std::mem::take(&mut state.list.unplaced_drop) {
            attach_to(state, row, path, commands);
        }
    } else if cancel {
        state.list.unplaced_drop.clear();
    }
}
