//! The window's frame: the top bar (views, help, the demo banner), the status bar, the
//! close confirmation, and between them the view the agent chose.

use crate::bus::{Command, Connection, DialTrouble, KeyPlace};

use super::i18n::{Language, Texts, fill};
use super::state::{NARROW_BELOW, UiState, View};
use super::widgets::{dialog, filling_scroll, icon_button};
use super::{calls_view, drops, settings_view, shortcuts, sources_view, theme};

/// Draws the whole window.
pub fn root_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    shortcuts::shortcuts(ui, state, commands);
    state.list.drop_target = None;
    top_bar_ui(ui, state);
    shortcuts::help_ui(ui.ctx(), state);
    close_dialog_ui(ui.ctx(), state);
    dial_dialog_ui(ui.ctx(), state);
    key_dialog_ui(ui.ctx(), state, commands);
    super::wrapup::wrapup_dialog_ui(
        ui.ctx(),
        &mut state.wrapups,
        &state.fields,
        state.lang.texts(),
        commands,
    );
    status_bar_ui(ui, state);
    match state.view {
        View::Settings => settings_page_ui(ui, state, commands),
        View::Sources => sources_page_ui(ui, state, commands),
        View::Calls => calls_view::calls_view_ui(ui, state, commands),
    }
    drops::drops_ui(ui.ctx(), state, commands);
}

/// The views' tabs and the help button; the demo's banner under them.
fn top_bar_ui(ui: &mut egui::Ui, state: &mut UiState) {
    let t = state.texts();
    let narrow = ui.available_width() < NARROW_BELOW;
    egui::Panel::top("top_bar")
        .frame(theme::edge_panel(ui.style()))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                if !narrow {
                    ui.heading("pyrus-phone");
                    ui.separator();
                }
                ui.selectable_value(&mut state.view, View::Calls, t.tab_calls);
                ui.selectable_value(&mut state.view, View::Sources, t.tab_sources);
                ui.selectable_value(&mut state.view, View::Settings, t.tab_settings);
                if icon_button(ui, "?", t.help_help, t.help).clicked() {
                    state.help_open = !state.help_open;
                }
            });
            if state.demo {
                demo_banner_ui(ui, t);
            }
        });
}

/// Obvious at a glance: nothing typed here reaches a real Pyrus.
fn demo_banner_ui(ui: &mut egui::Ui, t: &Texts) {
    egui::Frame::new()
        .fill(theme::DEMO_FILL)
        .inner_margin(egui::Margin::symmetric(6, 3))
        .corner_radius(3.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(
                egui::Label::new(
                    egui::RichText::new(t.demo_banner)
                        .color(theme::DEMO_TEXT)
                        .strong(),
                )
                .wrap(),
            )
            .on_hover_text(t.demo_hover);
        });
    ui.add_space(2.0);
}

fn status_text(state: &UiState) -> String {
    let t = state.texts();
    let connection = match state.status.connection {
        Connection::Unknown => t.conn_unknown,
        Connection::SignedIn => t.conn_signed_in,
        Connection::Offline => t.conn_offline,
        Connection::Troubled => t.conn_troubled,
        Connection::NeedsCredentials => t.conn_credentials,
    };
    format!("{connection} · {}", t.jobs(state.status.open_jobs))
}

/// The connection and the jobs waiting; a broken outbox or a taken hook port, each leading
/// to the hook doctor; the last notice, with the system's words on hover.
fn status_bar_ui(ui: &mut egui::Ui, state: &mut UiState) {
    let t = state.texts();
    egui::Panel::bottom("status_bar")
        .frame(theme::edge_panel(ui.style()))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let colour = match state.status.connection {
                    Connection::SignedIn => theme::OK,
                    Connection::Offline | Connection::Troubled => theme::WARN,
                    Connection::NeedsCredentials => theme::ERROR,
                    Connection::Unknown => theme::PENDING,
                };
                ui.colored_label(colour, status_text(state));
                let sources = state.sources.as_ref();
                let mut to_doctor = false;
                if sources.is_some_and(|s| s.outbox_problem.is_some()) {
                    to_doctor |=
                        status_link(ui, t.status_outbox_broken.to_owned(), theme::ERROR).clicked();
                }
                if let Some(port) = sources
                    .and_then(|s| s.hook.as_ref())
                    .and_then(|h| h.taken_port)
                {
                    to_doctor |=
                        status_link(ui, fill(t.status_port_taken, &[&port]), theme::WARN).clicked();
                }
                if to_doctor {
                    state.view = View::Sources;
                }
                if let Some(broken) = &state.settings_form.admin.broken
                    && status_link(ui, t.admin_broken_status.to_owned(), theme::WARN)
                        .on_hover_text(broken.to_string())
                        .clicked()
                {
                    state.view = View::Settings;
                }
                if let Some(notice) = &state.notice {
                    ui.separator();
                    let label = ui.add(egui::Label::new(notice.as_str()).wrap());
                    if let Some(detail) = &state.notice_detail {
                        label.on_hover_text(detail);
                    }
                }
            });
        });
}

/// A problem in the status bar, after a separator, that leads where it can be fixed.
fn status_link(ui: &mut egui::Ui, text: String, colour: egui::Color32) -> egui::Response {
    ui.separator();
    ui.add(egui::Label::new(egui::RichText::new(text).color(colour)).sense(egui::Sense::click()))
}

/// Asks before closing while work is waiting.
fn close_dialog_ui(ctx: &egui::Context, state: &mut UiState) {
    if !state.confirm_close {
        return;
    }
    let t = state.texts();
    dialog(t.close_title).show(ctx, |ui| {
        ui.label(fill(t.close_text, &[&t.jobs(state.status.open_jobs)]));
        ui.horizontal(|ui| {
            if ui.button(t.keep_open).clicked() {
                state.confirm_close = false;
            }
            if ui.button(t.close_anyway).clicked() {
                state.confirm_close = false;
                state.close_now = true;
                ui.ctx().request_repaint();
            }
        });
    });
}

/// Call back dialled nothing: says why, with the number ready to copy.
fn dial_dialog_ui(ctx: &egui::Context, state: &mut UiState) {
    let Some((number, why, detail)) = &state.dial_by_hand else {
        return;
    };
    let t = state.texts();
    let words = match why {
        DialTrouble::NoProgram => t.dial_no_program,
        DialTrouble::CommandFailed => t.dial_command_failed,
        DialTrouble::SoftphoneAway => t.dial_softphone_away,
        DialTrouble::HandlerFailed => t.dial_handler_failed,
    };
    let mut close = false;
    dialog(t.dial_title).show(ctx, |ui| {
        ui.set_max_width(340.0);
        let label = ui.add(egui::Label::new(words).wrap());
        if !detail.is_empty() {
            label.on_hover_text(detail.as_str());
        }
        ui.add(egui::Label::new(egui::RichText::new(number.grouped()).heading()).selectable(true));
        ui.horizontal(|ui| {
            if ui.button(t.copy).clicked() {
                ui.ctx().copy_text(number.as_str().to_owned());
            }
            if ui.button(t.close).clicked() {
                close = true;
            }
        });
        ui.add(egui::Label::new(egui::RichText::new(t.dial_setup_hint).weak()).wrap());
    });
    if close {
        state.dial_by_hand = None;
    }
}

/// "Enter the key": the security key for the login in force, for work waiting on it.
fn key_dialog_ui(ctx: &egui::Context, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    let login = state
        .in_force
        .as_ref()
        .map(|s| s.pyrus.login.trim().to_owned())
        .unwrap_or_default();
    let no_keyring = matches!(
        state.key_place,
        Some(KeyPlace::NoKeyring(_) | KeyPlace::ThisSession(_))
    );
    let Some(typed) = &mut state.key_prompt else {
        return;
    };
    let (mut done, mut sent) = (false, None);
    dialog(t.enter_key).show(ctx, |ui| {
        ui.set_max_width(340.0);
        ui.add(egui::Label::new(fill(t.enter_key_for, &[&login])).wrap());
        let field = ui.add(
            egui::TextEdit::singleline(typed)
                .password(true)
                .hint_text(t.security_key),
        );
        super::widgets::name_widget(&field, egui::Role::PasswordInput, t.security_key);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let where_kept = if no_keyring {
            t.enter_key_session
        } else {
            t.enter_key_keyring
        };
        ui.add(egui::Label::new(egui::RichText::new(where_kept).weak()).wrap());
        ui.horizontal(|ui| {
            let ready = !typed.trim().is_empty();
            if (ui
                .add_enabled(ready, egui::Button::new(t.use_key))
                .clicked()
                || enter)
                && ready
            {
                sent = Some(crate::domain::Secret::new(typed.trim()));
                done = true;
            }
            if ui.button(t.cancel).clicked() {
                done = true;
            }
        });
    });
    if let Some(key) = sent {
        commands.push(Command::UseKey(key));
    }
    if done {
        state.key_prompt = None;
    }
}

/// The settings, with Save and Cancel in a bar that stays in view.
fn settings_page_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    egui::Panel::bottom("settings_actions")
        .frame(theme::edge_panel(ui.style()))
        .show(ui, |ui| {
            ui.add_space(4.0);
            let action = settings_view::settings_actions_ui(
                ui,
                &mut state.settings_form,
                state.key_place.as_ref(),
                t,
                commands,
            );
            if action == settings_view::SettingsAction::Close {
                state.view = View::Calls;
            }
            ui.add_space(2.0);
        });
    egui::CentralPanel::default()
        .frame(theme::central_panel(ui.style()))
        .show(ui, |ui| {
            filling_scroll("settings_scroll").show(ui, |ui| {
                if state.first_run {
                    welcome_ui(ui, state);
                }
                let cx = settings_view::SettingsContext {
                    demo: state.demo,
                    key_place: state.key_place.as_ref(),
                    system: state.system_lang,
                    sources: state.sources.as_ref(),
                };
                settings_view::settings_ui(
                    ui,
                    &mut state.settings_form,
                    &mut state.doctor,
                    cx,
                    t,
                    commands,
                );
            });
        });
    // The language switch takes effect at once; Cancel puts it back.
    let chosen = state.settings_form.draft.window.language.as_deref();
    state.lang = Language::chosen(chosen, state.system_lang);
}

/// The first start's greeting, with a way into the demo.
fn welcome_ui(ui: &mut egui::Ui, state: &mut UiState) {
    let t = state.texts();
    ui.label(egui::RichText::new(t.welcome).heading());
    ui.label(t.welcome_text);
    if ui.button(t.try_demo).clicked() {
        state.first_run = false;
        state.view = View::Calls;
    }
    ui.separator();
}

/// The hook doctor, with the test call it sent, once the list has it.
fn sources_page_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    egui::CentralPanel::default()
        .frame(theme::central_panel(ui.style()))
        .show(ui, |ui| {
            filling_scroll("sources_scroll").show(ui, |ui| {
                let simulated = state
                    .doctor
                    .simulated
                    .as_deref()
                    .and_then(|id| state.list.by_external_id(id));
                sources_view::sources_ui(
                    ui,
                    &mut state.doctor,
                    state.sources.as_ref(),
                    (state.demo, simulated),
                    t,
                    commands,
                );
            });
        });
}
