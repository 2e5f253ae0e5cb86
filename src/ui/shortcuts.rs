//! The keyboard shortcuts, handled before the views draw, and the help window that lists
//! them.

use crate::bus::Command;

use super::call_form;
use super::state::{Outcome, Pane, UiState, View};
use super::widgets::dialog;

/// Keyboard shortcuts, handled before the views draw.
pub fn shortcuts(ui: &egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    use egui::{Key, Modifiers};
    let pressed = |m: Modifiers, k: Key| ui.input_mut(|i| i.consume_key(m, k));
    if ui.input(|i| i.key_pressed(Key::Tab)) {
        // egui moves focus at the end of this pass: run one more at once, so keys typed
        // right after Tab go to the field Tab reached.
        ui.ctx().request_repaint();
    }
    if pressed(Modifiers::NONE, Key::F1) {
        state.help_open = !state.help_open;
    }
    // Esc closes the help (and is left for text fields otherwise).
    if state.help_open && pressed(Modifiers::NONE, Key::Escape) {
        state.help_open = false;
    }
    if pressed(Modifiers::COMMAND, Key::Comma) {
        state.view = View::Settings;
    }
    if pressed(Modifiers::NONE, Key::F2) {
        state.view = View::Sources;
    }
    if pressed(Modifiers::COMMAND, Key::L) {
        // A new number: a failed call being corrected stays in the list (Correct…).
        state.show_pane(Pane::Form);
        if state.form.correcting.take().is_some() {
            state.outcome = Outcome::Idle;
        }
        call_form::focus_from(ui.ctx(), &state.form.from);
    }
    // In a narrow window, the form and the list by keyboard.
    if pressed(Modifiers::COMMAND, Key::Num1) {
        state.show_pane(Pane::Form);
    }
    if pressed(Modifiers::COMMAND, Key::Num2) {
        state.show_pane(Pane::List);
    }
    if pressed(Modifiers::COMMAND, Key::N) {
        state.show_pane(Pane::Form);
        state.form.clear();
        state.let_outcome_go();
        call_form::focus_from(ui.ctx(), "");
    }
    if pressed(Modifiers::COMMAND, Key::O)
        && let Some(url) = state.list.calls.iter().find_map(|c| c.task_url.clone())
    {
        commands.push(Command::OpenUrl(url));
    }
    if pressed(Modifiers::COMMAND, Key::R) {
        state.list.pick_for = state.list.calls.first().map(|c| c.row);
    }
    if pressed(Modifiers::COMMAND, Key::E)
        && let Some(row) = state
            .list
            .calls
            .iter()
            .find(|c| c.registration.is_some())
            .map(|c| c.row)
    {
        state.open_wrapup(row);
    }
}

/// The shortcuts, one per line (F1, the ? button; Esc closes it).
pub fn help_ui(ctx: &egui::Context, state: &mut UiState) {
    let t = state.texts();
    let mut open = state.help_open;
    dialog(t.help).open(&mut open).show(ctx, |ui| {
        for line in [
            t.help_register,
            t.help_focus,
            t.help_next,
            t.help_panes,
            t.help_open,
            t.help_attach,
            t.help_wrapup,
            t.help_settings,
            t.help_sources,
            t.help_help,
        ] {
            ui.label(line);
        }
    });
    state.help_open = open;
}
