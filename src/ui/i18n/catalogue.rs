//! The catalogue's shape: `Texts`, one field for each thing the window says; each
//! language's file fills it.

/// The window's words.
#[derive(Debug)]
pub struct Texts {
    /// Tab.
    pub tab_calls: &'static str,
    /// Tab.
    pub tab_settings: &'static str,
    /// The demo's banner under the top bar.
    pub demo_banner: &'static str,
    /// Badge hover.
    pub demo_hover: &'static str,
    /// Status bar.
    pub conn_unknown: &'static str,
    /// Status bar.
    pub conn_signed_in: &'static str,
    /// Status bar.
    pub conn_offline: &'static str,
    /// Status bar.
    pub conn_credentials: &'static str,
    /// Status bar.
    pub jobs_none: &'static str,
    /// Status bar: one, few, many (`{}` = count).
    pub jobs_waiting: [&'static str; 3],
    /// Form.
    pub new_call: &'static str,
    /// Form.
    pub from: &'static str,
    /// Form.
    pub to: &'static str,
    /// Form.
    pub internal: &'static str,
    /// Form.
    pub external_id: &'static str,
    /// Form hint.
    pub optional_internal: &'static str,
    /// Form hint.
    pub optional_external: &'static str,
    /// Form.
    pub mappings: &'static str,
    /// Form hint.
    pub field_code: &'static str,
    /// Form hint.
    pub value: &'static str,
    /// Form hover.
    pub field_code_hover: &'static str,
    /// Accessible name (`{}` = row).
    pub mapping_code_n: &'static str,
    /// Accessible name (`{}` = row).
    pub mapping_value_n: &'static str,
    /// Button.
    pub remove: &'static str,
    /// Accessible name (`{}` = row).
    pub remove_n: &'static str,
    /// Button.
    pub add_mapping: &'static str,
    /// Button.
    pub register: &'static str,
    /// Outcome (`{}` = external id).
    pub registering_call: &'static str,
    /// Outcome (`{}` = reason).
    pub retrying: &'static str,
    /// Outcome (`{}` = task id).
    pub task_n: &'static str,
    /// Outcome.
    pub new_task: &'static str,
    /// Outcome.
    pub existing_task: &'static str,
    /// Outcome (`{}` = name).
    pub responsible: &'static str,
    /// Button.
    pub open_task: &'static str,
    /// Outcome.
    pub waiting_credentials: &'static str,
    /// Outcome.
    pub not_registered: &'static str,
    /// Button.
    pub retry: &'static str,
    /// List heading (`{}` = count).
    pub calls_today: &'static str,
    /// List.
    pub no_calls: &'static str,
    /// Row (`{}` = from, to).
    pub number_pair: &'static str,
    /// Chip.
    pub chip_registering: &'static str,
    /// Chip.
    pub chip_attaching: &'static str,
    /// A call's recording is being looked for in the softphone's folder.
    pub chip_finding_recording: &'static str,
    /// Chip (`{}` = seconds, reason).
    pub chip_retrying: &'static str,
    /// A job held back by the rate budget: when it goes (local time).
    pub chip_budget: &'static str,
    /// Chip (`{}` = reason).
    pub chip_credentials: &'static str,
    /// Chip (`{}` = reason).
    pub chip_failed: &'static str,
    /// Chip: a heard call kept until this line's number is set.
    pub chip_held_line: &'static str,
    /// The one-click fix on a held call's row.
    pub set_line_number: &'static str,
    /// Chip.
    pub chip_done: &'static str,
    /// Chip.
    pub chip_discarded: &'static str,
    /// Chip.
    pub chip_registered: &'static str,
    /// Chip.
    pub chip_attached: &'static str,
    /// Button.
    pub cancel_upload: &'static str,
    /// Button (`{}` = task id).
    pub open_task_n: &'static str,
    /// Button.
    pub attach_recording: &'static str,
    /// Button.
    pub discard: &'static str,
    /// Notice.
    pub drop_first: &'static str,
    /// File dialog.
    pub picker_title: &'static str,
    /// File dialog filter.
    pub picker_filter: &'static str,
    /// Settings.
    pub settings: &'static str,
    /// Settings.
    pub demo_note: &'static str,
    /// Settings.
    pub account: &'static str,
    /// Settings.
    pub login: &'static str,
    /// Settings.
    pub security_key: &'static str,
    /// Settings.
    pub account_id: &'static str,
    /// Settings.
    pub auth_url: &'static str,
    /// Settings.
    pub web_address: &'static str,
    /// Settings hint.
    pub key_hint_new: &'static str,
    /// Settings hint.
    pub key_hint_stored: &'static str,
    /// Settings hint.
    pub account_hint: &'static str,
    /// Settings hint.
    pub web_hint: &'static str,
    /// Settings.
    pub who_opens: &'static str,
    /// Settings.
    pub open_app: &'static str,
    /// Settings.
    pub open_pyrus: &'static str,
    /// Settings.
    pub open_pyrus_hover: &'static str,
    /// Settings.
    pub open_nobody: &'static str,
    /// Settings.
    pub language: &'static str,
    /// Button.
    pub test_connection: &'static str,
    /// Settings (`{}` = API address).
    pub signed_in_api: &'static str,
    /// Button.
    pub save: &'static str,
    /// Button.
    pub cancel: &'static str,
    /// Settings.
    pub saved: &'static str,
    /// Welcome.
    pub welcome: &'static str,
    /// Welcome.
    pub welcome_text: &'static str,
    /// Welcome.
    pub try_demo: &'static str,
    /// Settings check.
    pub need_login: &'static str,
    /// Settings check.
    pub need_account: &'static str,
    /// Settings check.
    pub need_key: &'static str,
    /// Field names in input errors.
    pub field_from: &'static str,
    /// Field names in input errors.
    pub field_to: &'static str,
    /// Field names in input errors.
    pub field_internal: &'static str,
    /// Input error.
    pub phone_empty: &'static str,
    /// Input error (`{}` = character).
    pub phone_bad_char: &'static str,
    /// Input error.
    pub phone_plus: &'static str,
    /// Input error (`{}` = digits, minimum).
    pub phone_short: &'static str,
    /// Input error (`{}` = digits).
    pub phone_long: &'static str,
    /// Input error (`{}` = text).
    pub mapping_no_equals: &'static str,
    /// Input error.
    pub mapping_no_code: &'static str,
    /// Input error (`{}` = what, length).
    pub too_long: &'static str,
    /// Long field names.
    pub long_external_id: &'static str,
    /// Long field names.
    pub long_mapping_code: &'static str,
    /// Long field names (`{}` = code).
    pub long_mapping_value: &'static str,
    /// Input error.
    pub external_id_empty: &'static str,
    /// Input error (`{}` = what, the code point in hex).
    pub hidden_character: &'static str,
    /// Input error (`{}` = file name).
    pub unsupported_audio: &'static str,
    /// Input error (`{}` = code).
    pub unknown_country: &'static str,
    /// Number preview (`{}` = number).
    pub sent_as: &'static str,
    /// Number preview (`{}` = number).
    pub sent_as_typed: &'static str,
    /// Settings.
    pub default_country: &'static str,
    /// Settings hint.
    pub country_hint: &'static str,
    /// Form.
    pub presets: &'static str,
    /// Form hover.
    pub preset_hover: &'static str,
    /// Form.
    pub choose_option: &'static str,
    /// Accessible name (`{}` = row).
    pub field_options_n: &'static str,
    /// Button.
    pub help: &'static str,
    /// Help line.
    pub help_register: &'static str,
    /// Help line.
    pub help_focus: &'static str,
    /// Help line.
    pub help_open: &'static str,
    /// Help line.
    pub help_attach: &'static str,
    /// Help: the wrap-up shortcut.
    pub help_wrapup: &'static str,
    /// Help line.
    pub help_settings: &'static str,
    /// Help line.
    pub help_help: &'static str,
    /// Button.
    pub close: &'static str,
    /// Settings.
    pub always_on_top: &'static str,
    /// Close dialog.
    pub close_title: &'static str,
    /// Close dialog (`{}` = jobs text).
    pub close_text: &'static str,
    /// Button.
    pub close_anyway: &'static str,
    /// Button.
    pub keep_open: &'static str,
    /// Settings.
    pub form_id: &'static str,
    /// Settings hint.
    pub form_id_hint: &'static str,
    /// Form (`{}` = reason).
    pub fields_error: &'static str,
    /// Form.
    pub direction: &'static str,
    /// Form and row.
    pub incoming: &'static str,
    /// Form and row.
    pub outgoing: &'static str,
    /// Row: a call registered from the softphone's own call history (not heard live).
    pub from_history: &'static str,
    /// Tab: the hook doctor.
    pub tab_sources: &'static str,
    /// Source names.
    pub src_command: &'static str,
    /// Source names.
    pub src_http: &'static str,
    /// Source names.
    pub src_baresip: &'static str,
    /// Source name: Twinkle.
    pub src_twinkle: &'static str,
    /// Health: no Twinkle folder.
    pub twinkle_none: &'static str,
    /// Health: Twinkle found, not every script runs pyrus-phone ({profiles and counts}).
    pub twinkle_not_set_up: &'static str,
    /// Health: every profile set up ({profiles}).
    pub twinkle_ready: &'static str,
    /// Health: when its last event came ({time}).
    pub twinkle_heard: &'static str,
    /// Health: its call history is read.
    pub twinkle_history: &'static str,
    /// Button: set Twinkle up.
    pub twinkle_set_up_button: &'static str,
    /// Hover of the button.
    pub twinkle_set_up_hover: &'static str,
    /// Source names.
    pub src_simulated: &'static str,
    /// Source names.
    pub src_recordings: &'static str,
    /// Health lines.
    pub health_listening: &'static str,
    /// Health lines.
    pub health_hook_off: &'static str,
    /// Health lines.
    pub health_hook_failed: &'static str,
    /// The hook's port is held by another program (`{}` = port, where it listens, port).
    pub port_taken: &'static str,
    /// Button: try the configured port again (`{}` = port).
    pub port_try_again: &'static str,
    /// Status bar, while the hook's port is taken (`{}` = port).
    pub status_port_taken: &'static str,
    /// Health row name: the outbox.
    pub src_outbox: &'static str,
    /// Health line when heard calls cannot be stored (`{}` = why, with the file).
    pub outbox_broken: &'static str,
    /// Status bar, while heard calls cannot be stored.
    pub status_outbox_broken: &'static str,
    /// Health lines.
    pub token_kept: &'static str,
    /// Health lines.
    pub token_this_run: &'static str,
    /// Health lines.
    pub health_allow: &'static str,
    /// Health lines.
    pub baresip_connected: &'static str,
    /// Health lines.
    pub baresip_waiting: &'static str,
    /// Health lines.
    pub baresip_none: &'static str,
    /// Health lines.
    pub folder_ok: &'static str,
    /// Health lines.
    pub folder_bad: &'static str,
    /// Health lines.
    pub folder_none: &'static str,
    /// Health lines.
    pub via_command: &'static str,
    /// Simulate.
    pub simulate_title: &'static str,
    /// Simulate.
    pub simulate_demo: &'static str,
    /// Simulate.
    pub simulate_real: &'static str,
    /// Simulate.
    pub simulate_number: &'static str,
    /// Setup lines.
    pub microsip_title: &'static str,
    /// Setup lines.
    pub microsip_too_long: &'static str,
    /// Setup lines.
    pub action_url_title: &'static str,
    /// Setup lines.
    pub action_url_local: &'static str,
    /// Raw messages.
    pub raw_title: &'static str,
    /// Raw messages.
    pub raw_none: &'static str,
    /// Raw messages.
    pub verdict_accepted: &'static str,
    /// Raw messages.
    pub verdict_ignored: &'static str,
    /// Raw messages.
    pub verdict_sent: &'static str,
    /// Raw messages.
    pub verdict_refused: &'static str,
    /// Raw messages (`{}` = what the call waits for).
    pub verdict_waiting: &'static str,
    /// Buttons.
    pub copy: &'static str,
    /// Buttons.
    pub show: &'static str,
    /// Buttons.
    pub hide: &'static str,
    /// Buttons.
    pub check_again: &'static str,
    /// Token.
    pub new_token: &'static str,
    /// Token.
    pub new_token_hover: &'static str,
    /// Token.
    pub hook_token: &'static str,
    /// Token.
    pub hook_token_none: &'static str,
    /// Ringing banner.
    pub ringing: &'static str,
    /// Ringing banner.
    pub answer: &'static str,
    /// Ringing banner.
    pub answer_hover: &'static str,
    /// Settings.
    pub open_on: &'static str,
    /// Settings.
    pub open_on_ring: &'static str,
    /// Settings.
    pub open_on_answer: &'static str,
    /// Settings.
    pub open_on_manual: &'static str,
    /// Settings.
    pub hook_section: &'static str,
    /// Settings.
    pub hook_network: &'static str,
    /// Settings.
    pub hook_allow: &'static str,
    /// Settings.
    pub hook_allow_hint: &'static str,
    /// Simulate.
    pub simulate_button: &'static str,
    /// Settings.
    pub line_number: &'static str,
    /// Settings.
    pub line_hint: &'static str,
    /// Settings.
    pub internal_hint: &'static str,
    /// Settings.
    pub own_internal: &'static str,
    /// Help.
    pub help_sources: &'static str,
    /// Ringing banner.
    pub to_form: &'static str,
    /// Settings.
    pub register_on: &'static str,
    /// Settings.
    pub register_missed: &'static str,
    /// Settings.
    pub baresip_addr: &'static str,
    /// Settings.
    pub baresip_hint: &'static str,
    /// Settings.
    pub recordings_dir: &'static str,
    /// Settings.
    pub recordings_hint: &'static str,
    /// A field's default, shown as its placeholder.
    pub line_placeholder: &'static str,
    /// The Register button while a failed call is corrected.
    pub resend: &'static str,
    /// Clears the form.
    pub next_call: &'static str,
    /// Hover text of Next call.
    pub next_call_hover: &'static str,
    /// Under a failed call being corrected.
    pub correct_above: &'static str,
    /// The shortcut help's line for Ctrl+N.
    pub help_next: &'static str,
    /// The list's tab in a narrow window.
    pub calls_tab_n: &'static str,
    /// A row's stage: ringing for m:ss.
    pub stage_ringing: &'static str,
    /// A row's stage: talking for m:ss.
    pub stage_talking: &'static str,
    /// A row's stage: ended after m:ss of talk.
    pub stage_ended: &'static str,
    /// A row's stage: rang m:ss, not answered.
    pub stage_missed: &'static str,
    /// Why a missed call ended: the caller gave up.
    pub reason_cancelled: &'static str,
    /// Why a missed call ended: rejected here.
    pub reason_rejected: &'static str,
    /// Why a missed call ended: Do not disturb was on.
    pub reason_dnd: &'static str,
    /// The list's search field's placeholder.
    pub search_hint: &'static str,
    /// The list's search field's name.
    pub search: &'static str,
    /// The filter for missed calls.
    pub missed_filter: &'static str,
    /// Back from a search to today's calls.
    pub show_today: &'static str,
    /// The list's heading when searching.
    pub calls_found: &'static str,
    /// While the service looks.
    pub searching: &'static str,
    /// A search found nothing.
    pub nothing_found: &'static str,
    /// A discarded row, for a while: number, seconds left.
    pub discarding: &'static str,
    /// Takes a discard back.
    pub undo: &'static str,
    /// A recording on its call's row: file, state.
    pub recording_line: &'static str,
    /// A recording's state.
    pub rec_attached: &'static str,
    /// A recording's state.
    pub rec_failed: &'static str,
    /// A recording's state.
    pub rec_waiting: &'static str,
    /// Calls a missed number back.
    pub call_back: &'static str,
    /// Hover: which number.
    pub call_back_hover: &'static str,
    /// Loads a failed call into the form.
    pub correct: &'static str,
    /// Hover of Correct.
    pub correct_hover: &'static str,
    /// The built-in chooser's Open button.
    pub picker_open: &'static str,
    /// The built-in chooser's Cancel button.
    pub picker_cancel: &'static str,
    /// The built-in chooser's file field.
    pub picker_file: &'static str,
    /// A chooser is open already.
    pub picker_busy: &'static str,
    /// The system dialog did not open.
    pub picker_fell_back: &'static str,
    /// Confirms a picked or dropped file: file, call.
    pub attaching_to: &'static str,
    /// Names a call: number, time.
    pub call_from_at: &'static str,
    /// The dialog for a drop that hit no row.
    pub which_call: &'static str,
    /// Its text: file names.
    pub which_call_text: &'static str,
    /// A notification's title for a ringing call.
    pub notify_ringing: &'static str,
    /// A notification's action.
    pub notify_show: &'static str,
    /// Closes a ringing bar.
    pub dismiss_ringing: &'static str,
    /// Key field hint: the key comes from the environment.
    pub key_hint_env: &'static str,
    /// Key field hint: kept for this session.
    pub key_hint_session: &'static str,
    /// Key field hint: no keyring.
    pub key_hint_no_keyring: &'static str,
    /// Saved; the key comes from the environment.
    pub saved_env: &'static str,
    /// Saved; the keyring could not keep the key.
    pub saved_session: &'static str,
    /// Saved; no keyring and no key typed.
    pub saved_no_keyring: &'static str,
    /// Saved; no key for the login yet.
    pub saved_no_key: &'static str,
    /// The hook's port field.
    pub hook_port: &'static str,
    /// A bad hook port.
    pub hook_port_error: &'static str,
    /// How presets are written.
    pub presets_hint: &'static str,
    /// A preset's name field hint.
    pub preset_name: &'static str,
    /// A preset's name field, by number.
    pub preset_name_n: &'static str,
    /// A preset's mappings field, by number.
    pub preset_mappings_n: &'static str,
    /// Adds a preset.
    pub add_preset: &'static str,
    /// Notice: a call could not be stored.
    pub n_call_not_stored: &'static str,
    /// Notice: heard calls could not be kept.
    pub n_heard_not_stored: &'static str,
    /// Notice: events kept from the last run cannot be read.
    pub n_journal_unreadable: &'static str,
    /// Notice: a pickup could not be stored.
    pub n_pickup_not_stored: &'static str,
    /// Notice: the list cannot be read.
    pub n_list_unreadable: &'static str,
    /// Notice: the outbox failed while sending.
    pub n_outbox_failed: &'static str,
    /// Notice: credentials are missing or unusable.
    pub n_credentials: &'static str,
    /// Notice: a link could not be opened.
    pub n_link_not_opened: &'static str,
    /// Notice: a number could not be handed to the softphone.
    pub n_dial_failed: &'static str,
    /// Notice: a recording could not be queued.
    pub n_recording_not_queued: &'static str,
    /// Notice: cancel came too late.
    pub n_not_uploading: &'static str,
    /// Notice: retry/discard refused.
    pub n_job_refused: &'static str,
    /// Notice: no call sources here.
    pub n_no_sources: &'static str,
    /// Notice: the hook is off.
    pub n_hook_off: &'static str,
    /// Notice: the hook stays on its other port.
    pub n_hook_port_stays: &'static str,
    /// Notice: a test call failed.
    pub n_simulate_failed: &'static str,
    /// Notice: the call could not be answered.
    pub n_answer_failed: &'static str,
    /// Notice: the token could not be renewed.
    pub n_token_not_renewed: &'static str,
    /// The service queue is full.
    pub n_busy: &'static str,
    /// The service stopped.
    pub n_stopped: &'static str,
    /// The shortcut help's line for Ctrl+1 / Ctrl+2.
    pub help_panes: &'static str,
    /// A recording's state while it uploads.
    pub rec_sending: &'static str,
    /// A row's stage: an outgoing call nobody answered, rang m:ss.
    pub stage_no_answer: &'static str,
    /// A row's stage: its end was never heard.
    pub stage_unfinished: &'static str,
    /// A recording discarded, for a while: number, seconds left.
    pub discarding_recording: &'static str,
    /// The built-in chooser's hidden-files switch.
    pub picker_hidden: &'static str,
    /// The built-in chooser's refresh button.
    pub picker_refresh: &'static str,
    /// The built-in chooser's parent-folder button.
    pub picker_parent: &'static str,
    /// The presets' mappings field hint.
    pub presets_example: &'static str,
    /// A preset with mappings but no name.
    pub preset_needs_name: &'static str,
    /// Save is off while a field is wrong.
    pub fix_before_save: &'static str,
    /// The status bar: Pyrus answers with errors.
    pub conn_troubled: &'static str,
    /// By the Simulate button while the test call goes through.
    pub simulate_sent: &'static str,
    /// Notice: the autostart entry could not be written.
    pub n_autostart_failed: &'static str,
    /// Notice: the outbox that could not be opened opens again.
    pub n_outbox_opened: &'static str,
    /// Notice: Twinkle's scripts set up.
    pub n_twinkle_set_up: &'static str,
    /// Notice: Twinkle could not be set up.
    pub n_twinkle_not_set_up: &'static str,
    /// Caller card: no form is set.
    pub card_no_form: &'static str,
    /// Caller card: the bot may not read the form {} (twice).
    pub card_denied: &'static str,
    /// Caller card: a form could not be read just now (form, code).
    pub card_failed: &'static str,
    /// Caller card: the index is still being read.
    pub card_syncing: &'static str,
    /// Caller card: no task has this number.
    pub card_nobody: &'static str,
    /// Caller card: the button opening task {}.
    pub card_open: &'static str,
    /// Caller card: how many more open tasks.
    pub card_more: &'static str,
    /// Caller card: the closed tasks, {} of them.
    pub card_history: &'static str,
    /// Caller card: when the index was last read, {} a local time.
    pub card_as_of: &'static str,
    /// Caller card: a task's last change, {} a local time.
    pub card_changed: &'static str,
    /// The button opening a call's wrap-up.
    pub wrap_up: &'static str,
    /// The wrap-up dialog's title.
    pub wrapup_title: &'static str,
    /// The wrap-up's notes field.
    pub wrapup_notes: &'static str,
    /// The wrap-up's save button.
    pub save_to_task: &'static str,
    /// No choice made in a wrap-up field.
    pub wrapup_none: &'static str,
    /// A wrap-up with nothing in it.
    pub wrapup_nothing: &'static str,
    /// A wrap-up's notes are too long ({} the limit).
    pub wrapup_too_long: &'static str,
    /// A wrap-up's notes hold a control character.
    pub wrapup_control: &'static str,
    /// A row: the wrap-up was posted to task {}.
    pub wrapup_saved: &'static str,
    /// A row: the wrap-up is being sent.
    pub wrapup_saving: &'static str,
    /// A row: the wrap-up waits to be sent again ({} why).
    pub wrapup_retrying: &'static str,
    /// A row: Pyrus refused the wrap-up ({} why).
    pub wrapup_refused: &'static str,
    /// Row: the call's outcome was refused ({why}).
    pub outcome_refused: &'static str,
    /// Row: send the refused outcome again.
    pub outcome_retry: &'static str,
    /// A row: the button reopening a refused wrap-up.
    pub wrapup_correct: &'static str,
    /// The autostart setting.
    pub start_at_login: &'static str,
    /// Beside a value from the administrator's file.
    pub admin_mark: &'static str,
    /// Its hover text.
    pub admin_hover: &'static str,
    /// "Enter the key": the row's button and the dialog's title.
    pub enter_key: &'static str,
    /// The dialog's text ({login}).
    pub enter_key_for: &'static str,
    /// Where the key goes: the keyring.
    pub enter_key_keyring: &'static str,
    /// Where the key goes: this session (no keyring here).
    pub enter_key_session: &'static str,
    /// The dialog's button.
    pub use_key: &'static str,
    /// The settings: the dial command's label.
    pub dial_command: &'static str,
    /// Its hint.
    pub dial_command_hint: &'static str,
    /// The dial-by-hand dialog's title.
    pub dial_title: &'static str,
    /// Why: nothing here dials (no command, no baresip, no `tel:` handler but us).
    pub dial_no_program: &'static str,
    /// Why: the dial command failed.
    pub dial_command_failed: &'static str,
    /// Why: baresip is not connected.
    pub dial_softphone_away: &'static str,
    /// Why: the `tel:` handler started and failed.
    pub dial_handler_failed: &'static str,
    /// How to make Call back dial next time.
    pub dial_setup_hint: &'static str,
    /// A `tel:` link's number is in the form.
    pub link_in_form: &'static str,
    /// …and the call being typed was set aside.
    pub link_in_form_set_aside: &'static str,
    /// The button that puts the set-aside call back in the form.
    pub put_back_typed: &'static str,
    /// Beside a value the administrator locked.
    pub admin_locked: &'static str,
    /// Its hover text.
    pub admin_locked_hover: &'static str,
    /// The status bar: the administrator's file cannot be used (leads to the settings).
    pub admin_broken_status: &'static str,
    /// The settings view: the administrator's file cannot be used ({reason}, {file}).
    pub admin_broken: &'static str,
    /// Advice by Pyrus `error_code`.
    pub advice: &'static [(&'static str, &'static str)],
}
