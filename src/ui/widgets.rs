//! Small pieces several views draw the same way: the Open task button, a centred dialog, a
//! scroll area that fills its panel, icon buttons with a spoken name, and local times.

use chrono::{Local, TimeZone as _};

use crate::bus::Command;

use super::i18n::{Texts, fill};

/// "Open task N", with the link on hover; a click asks for the link to be opened.
pub fn open_task_button(
    ui: &mut egui::Ui,
    task_id: u64,
    url: &str,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    if ui
        .button(fill(t.open_task_n, &[&task_id]))
        .on_hover_text(url)
        .clicked()
    {
        commands.push(Command::OpenUrl(url.to_owned()));
    }
}

/// A small dialog in the middle of the window, neither folded nor resized.
pub fn dialog<'open>(title: &str) -> egui::Window<'open> {
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
}

/// A vertical scroll area that takes the whole panel, whatever it holds.
pub fn filling_scroll(id: &str) -> egui::ScrollArea {
    egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, false])
}

/// Gives a widget the name a screen reader says (and tests find it by).
pub fn name_widget(response: &egui::Response, role: egui::Role, name: &str) {
    response.widget_info(|| egui::WidgetInfo::labeled(role, true, name));
}

/// A button showing only `icon`: `hover` on hover, spoken as `name`.
pub fn icon_button(ui: &mut egui::Ui, icon: &str, hover: &str, name: &str) -> egui::Response {
    let button = ui.button(icon).on_hover_text(hover);
    name_widget(&button, egui::Role::Button, name);
    button
}

/// A Unix time in ms as local time in `format`; empty when out of range.
pub fn local_time(ms: i64, format: &str) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}
