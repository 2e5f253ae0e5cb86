//! One mapping row of the call form: its field code (with the form's fields to pick from)
//! over its value (with the field's options and a length counter), and × — in an order Tab
//! walks field to field.

use crate::domain::{FormFieldInfo, MAX_VALUE_CHARS};

use super::call_form::{MappingRow, entered};
use super::i18n::{Texts, fill};
use super::theme;
use super::widgets::{icon_button, name_widget};

/// Room the small widgets after a mapping's text field take.
const COMBO_WIDTH: f32 = 32.0;
const REMOVE_WIDTH: f32 = 30.0;
const COUNTER_WIDTH: f32 = 64.0;

/// One mapping: its code (with the form's fields to pick from) over its value (with the
/// field's options), each as wide as the form. True when Enter was pressed in either.
///
/// Tab goes from the code to its value, then to the next mapping's code: the field picker
/// and × beside the code take their place first and are made after the value, so they
/// come after it in the focus order (reachable, never next after the code).
pub(super) fn mapping_row_ui(
    ui: &mut egui::Ui,
    i: usize,
    row: &mut MappingRow,
    fields: &[FormFieldInfo],
    t: &Texts,
    remove: &mut Option<usize>,
) -> bool {
    let n = i + 1;
    let spacing = ui.spacing().item_spacing.x;
    let height = ui.spacing().interact_size.y;
    let mut enter = false;
    let (picker, cross) = ui
        .horizontal(|ui| {
            let mut room = ui.available_width() - REMOVE_WIDTH - spacing;
            if !fields.is_empty() {
                room -= COMBO_WIDTH + spacing;
            }
            let code = ui
                .add(
                    egui::TextEdit::singleline(&mut row.code)
                        .hint_text(t.field_code)
                        .desired_width(room.max(60.0)),
                )
                .on_hover_text(t.field_code_hover);
            name_widget(&code, egui::Role::TextInput, &fill(t.mapping_code_n, &[&n]));
            enter |= entered(ui, &code);
            let picker = (!fields.is_empty()).then(|| {
                ui.allocate_exact_size(egui::vec2(COMBO_WIDTH, height), egui::Sense::hover())
                    .0
            });
            let cross = ui
                .allocate_exact_size(egui::vec2(REMOVE_WIDTH, height), egui::Sense::hover())
                .0;
            (picker, cross)
        })
        .inner;
    ui.horizontal(|ui| {
        let options = fields
            .iter()
            .find(|f| f.code == row.code.trim())
            .map(|f| f.options.as_slice())
            .unwrap_or_default();
        let mut room = ui.available_width() - COUNTER_WIDTH - spacing;
        if !options.is_empty() {
            room -= COMBO_WIDTH + spacing;
        }
        let value = ui.add(
            egui::TextEdit::singleline(&mut row.value)
                .hint_text(t.value)
                .desired_width(room.max(60.0)),
        );
        name_widget(
            &value,
            egui::Role::TextInput,
            &fill(t.mapping_value_n, &[&n]),
        );
        enter |= entered(ui, &value);
        if !options.is_empty() {
            egui::ComboBox::from_id_salt(("option", i))
                .width(COMBO_WIDTH - 8.0)
                .selected_text("")
                .show_ui(ui, |ui| {
                    for option in options {
                        ui.selectable_value(&mut row.value, option.clone(), option);
                    }
                })
                .response
                .on_hover_text(t.choose_option);
        }
        let len = row.value.chars().count();
        let counter = egui::RichText::new(format!("{len}/{MAX_VALUE_CHARS}"));
        ui.label(if len > MAX_VALUE_CHARS {
            counter.color(theme::ERROR)
        } else {
            counter.weak()
        });
    });
    row_tools_ui(ui, (i, row), fields, (picker, cross), (t, remove));
    ui.add_space(4.0);
    enter
}

/// The field picker and × of mapping `i`, in the places kept for them beside its code, made
/// after its value so that they come after it in the focus order.
fn row_tools_ui(
    ui: &mut egui::Ui,
    (i, row): (usize, &mut MappingRow),
    fields: &[FormFieldInfo],
    (picker, cross): (Option<egui::Rect>, egui::Rect),
    (t, remove): (&Texts, &mut Option<usize>),
) {
    let n = i + 1;
    if let Some(rect) = picker {
        let builder = egui::UiBuilder::new()
            .id_salt(("mapping picker", i))
            .max_rect(rect)
            .layout(egui::Layout::left_to_right(egui::Align::Center));
        // A child of its own: the parent's cursor stays below the value row.
        let ui = &mut ui.new_child(builder);
        {
            let combo = egui::ComboBox::from_id_salt(("field", i))
                .width(COMBO_WIDTH - 8.0)
                .selected_text("")
                .show_ui(ui, |ui| {
                    for field in fields {
                        let label = format!("{} ({})", field.name, field.code);
                        ui.selectable_value(&mut row.code, field.code.clone(), label);
                    }
                });
            let name = fill(t.field_options_n, &[&n]);
            name_widget(&combo.response, egui::Role::ComboBox, &name);
        }
    }
    let builder = egui::UiBuilder::new()
        .id_salt(("mapping remove", i))
        .max_rect(cross)
        .layout(egui::Layout::left_to_right(egui::Align::Center));
    let ui = &mut ui.new_child(builder);
    if icon_button(ui, "×", t.remove, &fill(t.remove_n, &[&n])).clicked() {
        *remove = Some(i);
    }
}
