//! Every word the window shows, in English and Russian: one catalogue, chosen from the
//! system locale or the settings. Templates use `{}` for their arguments, filled in order.

use crate::domain::{InputError, LongField, PhoneError};

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Language {
    /// Both languages, for the switch.
    pub const ALL: [Self; 2] = [Self::En, Self::Ru];

    /// The code kept in the settings.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Ru => "Русский",
        }
    }

    /// Reads a code or a locale (`ru`, `ru-RU`, `ru_RU.UTF-8`); `None` for other languages.
    pub fn from_code(code: &str) -> Option<Self> {
        let lang = code
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match lang.as_str() {
            "en" => Some(Self::En),
            "ru" => Some(Self::Ru),
            _ => None,
        }
    }

    /// The language of the first locale that names one of ours (as `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` are tried in order), English otherwise.
    pub fn from_locales<'a>(locales: impl IntoIterator<Item = &'a str>) -> Self {
        locales
            .into_iter()
            .filter(|l| !l.is_empty() && *l != "C" && *l != "POSIX")
            .find_map(Self::from_code)
            .unwrap_or_default()
    }

    /// The catalogue.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Ru => &RU,
        }
    }
}

/// Fills `{}` in `template` with `args`, in order.
pub fn fill(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        if let Some(arg) = args.next() {
            out.push_str(&arg.to_string());
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// The window's words.
#[derive(Debug)]
pub struct Texts {
    /// Tab.
    pub tab_calls: &'static str,
    /// Tab.
    pub tab_settings: &'static str,
    /// Badge.
    pub demo_badge: &'static str,
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
    /// Tab: the hook doctor.
    pub tab_sources: &'static str,
    /// Source names.
    pub src_command: &'static str,
    /// Source names.
    pub src_http: &'static str,
    /// Source names.
    pub src_baresip: &'static str,
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
    /// Advice by Pyrus `error_code`.
    pub advice: &'static [(&'static str, &'static str)],
}

impl Texts {
    /// "N jobs waiting" with the right plural form.
    pub fn jobs(&self, n: usize) -> String {
        if n == 0 {
            return self.jobs_none.to_owned();
        }
        let form = if std::ptr::eq(self, &RU) {
            let (d10, d100) = (n % 10, n % 100);
            if d10 == 1 && d100 != 11 {
                0
            } else if (2..=4).contains(&d10) && !(12..=14).contains(&d100) {
                1
            } else {
                2
            }
        } else if n == 1 {
            0
        } else {
            2
        };
        fill(self.jobs_waiting[form], &[&n])
    }

    /// What to do about a Pyrus `error_code`, or `fallback` for codes without words here.
    pub fn advice<'a>(&self, code: Option<&str>, fallback: &'a str) -> std::borrow::Cow<'a, str> {
        code.and_then(|c| self.advice.iter().find(|(k, _)| *k == c))
            .map_or(std::borrow::Cow::Borrowed(fallback), |(_, v)| {
                std::borrow::Cow::Borrowed(*v)
            })
    }

    /// Words for a number that is not one.
    pub fn phone_error(&self, error: &PhoneError) -> String {
        match error {
            PhoneError::Empty => self.phone_empty.to_owned(),
            PhoneError::BadCharacter(c) => fill(self.phone_bad_char, &[c]),
            PhoneError::MisplacedPlus => self.phone_plus.to_owned(),
            PhoneError::TooShort { digits, min } => fill(self.phone_short, &[digits, min]),
            PhoneError::TooLong(n) => fill(self.phone_long, &[n]),
            PhoneError::UnknownCountry(code) => fill(self.unknown_country, &[code]),
        }
    }

    /// Words for bad input.
    pub fn input_error(&self, error: &InputError) -> String {
        match error {
            InputError::Phone { field, source } => {
                let name = match *field {
                    "from" => self.field_from,
                    "to" => self.field_to,
                    _ => self.field_internal,
                };
                format!("{name}: {}", self.phone_error(source))
            }
            InputError::MappingWithoutEquals(text) => fill(self.mapping_no_equals, &[text]),
            InputError::EmptyMappingCode => self.mapping_no_code.to_owned(),
            InputError::TooLong { what, len } => {
                let what = match what {
                    LongField::ExternalId => self.long_external_id.to_owned(),
                    LongField::MappingCode => self.long_mapping_code.to_owned(),
                    LongField::MappingValue(code) => fill(self.long_mapping_value, &[code]),
                };
                fill(self.too_long, &[&what, len])
            }
            InputError::EmptyExternalId => self.external_id_empty.to_owned(),
            InputError::UnsupportedAudio { name } => fill(self.unsupported_audio, &[name]),
        }
    }
}

/// English.
pub static EN: Texts = Texts {
    tab_calls: "Calls",
    tab_settings: "Settings",
    demo_badge: "DEMO SANDBOX",
    demo_hover: "No Pyrus account is in use: calls go to a built-in sandbox.",
    conn_unknown: "Not connected yet",
    conn_signed_in: "Signed in",
    conn_offline: "Offline, retrying",
    conn_credentials: "Credentials needed",
    jobs_none: "nothing waiting",
    jobs_waiting: ["{} job waiting", "{} jobs waiting", "{} jobs waiting"],
    new_call: "New call",
    from: "From",
    to: "To",
    internal: "Internal number",
    external_id: "External id",
    optional_internal: "200 (optional)",
    optional_external: "call id (optional)",
    mappings: "Mappings",
    field_code: "Field code",
    value: "Value",
    field_code_hover: "Pyrus form field code",
    mapping_code_n: "Mapping {} code",
    mapping_value_n: "Mapping {} value",
    remove: "Remove",
    remove_n: "Remove mapping {}",
    add_mapping: "Add mapping",
    register: "Register",
    registering_call: "Registering call {}…",
    retrying: "Retrying: {}",
    task_n: "Task {}",
    new_task: "New task created",
    existing_task: "Comment added to an existing task",
    responsible: "Responsible: {}",
    open_task: "Open task",
    waiting_credentials: "Waiting for credentials",
    not_registered: "Not registered",
    retry: "Retry",
    calls_today: "Calls today ({})",
    no_calls: "No calls yet today.",
    number_pair: "{} to {}",
    chip_registering: "Registering…",
    chip_attaching: "Attaching recording…",
    chip_finding_recording: "Finding the recording…",
    chip_retrying: "Retrying in {} s: {}",
    chip_credentials: "Waiting for credentials: {}",
    chip_failed: "Failed: {}",
    chip_held_line: "Kept: waits for this line's number",
    set_line_number: "Set this line's number…",
    chip_done: "Done",
    chip_discarded: "Discarded",
    chip_registered: "Registered",
    chip_attached: "Recording attached",
    cancel_upload: "Cancel upload",
    open_task_n: "Open task {}",
    attach_recording: "Attach recording…",
    discard: "Discard",
    drop_first: "Register the call first, then drop its recording on it.",
    picker_title: "Attach recording",
    picker_filter: "Call recordings",
    settings: "Settings",
    demo_note: "You are in the demo sandbox. Enter your Pyrus account and press Save to switch to it.",
    account: "Pyrus account",
    login: "Login",
    security_key: "Security key",
    account_id: "Account id",
    auth_url: "Auth URL",
    web_address: "Web address",
    key_hint_new: "from your Pyrus profile",
    key_hint_stored: "stored in the system keyring; type to replace",
    account_hint: "from the API telephony extension",
    web_hint: "derived from the API address",
    who_opens: "Who opens the task",
    open_app: "This app, when the call is registered",
    open_pyrus: "Pyrus, for the user whose Work phone matches the internal number",
    open_pyrus_hover: "Opening it here as well would give the agent two tabs.",
    open_nobody: "Nobody: I click Open task",
    language: "Language",
    test_connection: "Test connection",
    signed_in_api: "Signed in. API at {}",
    save: "Save",
    cancel: "Cancel",
    saved: "Saved. The security key is in the system keyring.",
    welcome: "Welcome to pyrus-phone",
    welcome_text: "Connect it to your Pyrus account below, or try it first against the built-in demo sandbox.",
    try_demo: "Try the demo",
    need_login: "Type the login of the Pyrus bot (or user).",
    need_account: "Type the account id shown in the API telephony extension in Pyrus.",
    need_key: "Type the security key: none is stored for this login yet.",
    field_from: "from",
    field_to: "to",
    field_internal: "internal",
    phone_empty: "the number is empty: type digits, optionally starting with +",
    phone_bad_char: "the number contains '{}': use digits, optionally a leading + and spaces, dashes, dots or brackets",
    phone_plus: "'+' may only stand at the start of the number",
    phone_short: "the number has {} digit(s): at least {} are needed",
    phone_long: "the number has {} digits: at most 15 are allowed (E.164)",
    mapping_no_equals: "mapping '{}' has no '=': write it as CODE=VALUE, e.g. Subject=Consultation",
    mapping_no_code: "a mapping has an empty field code: write it as CODE=VALUE",
    too_long: "{} is {} characters long: Pyrus accepts at most 300; shorten it",
    long_external_id: "the external id",
    long_mapping_code: "a mapping code",
    long_mapping_value: "the value of mapping {}",
    external_id_empty: "the external id is empty: give the call's id from the softphone, or leave it out",
    unsupported_audio: "'{}' is not an audio file Pyrus attaches: use one of ac3, mp3, ogg, wav, wma",
    unknown_country: "'{}' is not a country code: use two letters such as RU, KZ or DE",
    sent_as: "Sent as {}",
    sent_as_typed: "Sent as typed: {} (not recognised as a full number)",
    default_country: "Default country",
    country_hint: "RU, KZ, DE… (for numbers without +)",
    presets: "Presets",
    preset_hover: "Fill the mapping rows of this preset",
    choose_option: "choose…",
    field_options_n: "Mapping {} options",
    help: "Keyboard shortcuts",
    help_register: "Enter — register the call",
    help_focus: "Ctrl+L — go to the From field",
    help_open: "Ctrl+O — open the newest call's task",
    help_attach: "Ctrl+R — attach a recording to the newest call",
    help_settings: "Ctrl+, — settings",
    help_help: "F1 — this list (Esc closes it)",
    close: "Close",
    always_on_top: "Keep the window above others",
    close_title: "Calls are still waiting to be sent",
    close_text: "{}. They are kept and sent the next time pyrus-phone starts.",
    close_anyway: "Close anyway",
    keep_open: "Keep open",
    form_id: "Form id",
    form_id_hint: "the form the telephony extension is connected to",
    fields_error: "Form fields could not be read: {}",
    direction: "Direction",
    incoming: "Incoming",
    outgoing: "Outgoing",
    tab_sources: "Call sources",
    src_command: "Command hook (MicroSIP and others)",
    src_http: "HTTP hook and desk phones",
    src_baresip: "baresip",
    src_simulated: "Simulated calls",
    src_recordings: "Recording folder",
    health_listening: "listening on {}",
    health_hook_off: "switched off in the settings",
    health_hook_failed: "not listening: {}",
    port_taken: "Port {} is taken by another program, so pyrus-phone listens on {} instead. Command hooks (MicroSIP) and Simulate work; desk phones are set up for port {} and cannot reach it. Close the other program (or a second pyrus-phone), then check again.",
    port_try_again: "Try port {} again",
    status_port_taken: "Port {} taken: desk phones can't reach pyrus-phone (F2)",
    src_outbox: "Outbox",
    outbox_broken: "heard calls cannot be stored, so they are refused until this is fixed: {}",
    status_outbox_broken: "Calls cannot be stored: see Call sources (F2)",
    token_kept: "the token is kept in the system keyring",
    token_this_run: "the token is for this run only ({})",
    health_allow: "also open to {}",
    baresip_connected: "connected to {}",
    baresip_waiting: "not connected to {}: {}",
    baresip_none: "not set up (settings file: sources.baresip)",
    folder_ok: "{} can be read",
    folder_bad: "{} cannot be read: {}",
    folder_none: "not set: recordings are attached by hand",
    via_command: "the command hook is this program; it needs no setup here",
    simulate_title: "Simulate a call",
    simulate_demo: "Sends ring, answer and end through the same path as a softphone. The call is registered in the demo sandbox.",
    simulate_real: "Sends ring, answer and end through the same path as a softphone. The call is registered in your Pyrus account and creates a real task.",
    simulate_number: "Caller's number",
    microsip_title: "MicroSIP: paste into microsip.ini, section [Settings], while MicroSIP is closed",
    microsip_too_long: "A line is longer than MicroSIP reads (255 characters): install pyrus-phone in a shorter path",
    action_url_title: "Desk phone Action URLs (Yealink variables; Snom names the call id $call-id)",
    action_url_local: "Phones on the network reach this computer only with “Listen on the network” in the settings.",
    raw_title: "Last messages, newest first",
    raw_none: "Nothing received yet.",
    verdict_accepted: "accepted",
    verdict_ignored: "ignored",
    verdict_sent: "sent",
    verdict_refused: "refused: {}",
    verdict_waiting: "stored, waiting: {}",
    copy: "Copy",
    show: "Show",
    hide: "Hide",
    check_again: "Check again",
    new_token: "New token",
    new_token_hover: "Phones and hooks that use the old token will be refused",
    hook_token: "Event hook token",
    hook_token_none: "the event hook is off",
    ringing: "Incoming call: {}",
    answer: "Answer",
    answer_hover: "Answer in baresip",
    open_on: "Open the task of a softphone call",
    open_on_ring: "when it rings",
    open_on_answer: "when it is answered",
    open_on_manual: "only by hand",
    hook_section: "Event hook",
    hook_network: "Listen on the network for desk phones (plain HTTP: trusted office network only; applies after a restart)",
    hook_allow: "Allowed addresses",
    hook_allow_hint: "192.168.1.20, 192.168.1.0/24",
    simulate_button: "Simulate",
    line_number: "This line's number",
    line_hint: "the To of incoming calls, e.g. +7 495 300-90-80",
    internal_hint: "yours in Pyrus (Work phone), e.g. 200",
    own_internal: "Your internal number",
    help_sources: "F2 — call sources: health, test call, setup lines",
    to_form: "To the form",
    register_on: "Register a softphone call",
    register_missed: "Also register calls that rang and were not answered",
    baresip_addr: "baresip control address",
    baresip_hint: "127.0.0.1:4444 (ctrl_tcp); applies after a restart",
    recordings_dir: "Softphone's recording folder",
    recordings_hint: "recordings found there are attached by themselves",
    advice: &[],
};

/// Russian.
pub static RU: Texts = Texts {
    tab_calls: "Звонки",
    tab_settings: "Настройки",
    demo_badge: "ДЕМО-ПЕСОЧНИЦА",
    demo_hover: "Учётная запись Pyrus не подключена: звонки уходят во встроенную песочницу.",
    conn_unknown: "Ещё не подключено",
    conn_signed_in: "Подключено",
    conn_offline: "Нет связи, повторяем",
    conn_credentials: "Нужны учётные данные",
    jobs_none: "очередь пуста",
    jobs_waiting: [
        "{} задание в очереди",
        "{} задания в очереди",
        "{} заданий в очереди",
    ],
    new_call: "Новый звонок",
    from: "Откуда",
    to: "Куда",
    internal: "Внутренний номер",
    external_id: "Внешний id",
    optional_internal: "200 (необязательно)",
    optional_external: "id звонка (необязательно)",
    mappings: "Поля формы",
    field_code: "Код поля",
    value: "Значение",
    field_code_hover: "Код поля формы Pyrus",
    mapping_code_n: "Код поля {}",
    mapping_value_n: "Значение поля {}",
    remove: "Убрать",
    remove_n: "Убрать поле {}",
    add_mapping: "Добавить поле",
    register: "Зарегистрировать",
    registering_call: "Регистрируем звонок {}…",
    retrying: "Повторяем: {}",
    task_n: "Задача {}",
    new_task: "Создана новая задача",
    existing_task: "Добавлен комментарий к существующей задаче",
    responsible: "Ответственный: {}",
    open_task: "Открыть задачу",
    waiting_credentials: "Ждём учётные данные",
    not_registered: "Не зарегистрирован",
    retry: "Повторить",
    calls_today: "Звонки за сегодня ({})",
    no_calls: "Сегодня звонков ещё не было.",
    number_pair: "{} на {}",
    chip_registering: "Регистрируем…",
    chip_attaching: "Прикрепляем запись…",
    chip_finding_recording: "Ищем запись разговора…",
    chip_retrying: "Повтор через {} с: {}",
    chip_credentials: "Ждём учётные данные: {}",
    chip_failed: "Ошибка: {}",
    chip_held_line: "Сохранён: ждёт номер этой линии",
    set_line_number: "Указать номер линии…",
    chip_done: "Готово",
    chip_discarded: "Отменено",
    chip_registered: "Зарегистрирован",
    chip_attached: "Запись прикреплена",
    cancel_upload: "Остановить загрузку",
    open_task_n: "Открыть задачу {}",
    attach_recording: "Прикрепить запись…",
    discard: "Отказаться",
    drop_first: "Сначала зарегистрируйте звонок, потом перетащите на него запись.",
    picker_title: "Прикрепить запись",
    picker_filter: "Записи звонков",
    settings: "Настройки",
    demo_note: "Сейчас работает демо-песочница. Введите учётную запись Pyrus и нажмите «Сохранить», чтобы переключиться на неё.",
    account: "Учётная запись Pyrus",
    login: "Логин",
    security_key: "Ключ безопасности",
    account_id: "ID аккаунта",
    auth_url: "Адрес авторизации",
    web_address: "Веб-адрес",
    key_hint_new: "из профиля в Pyrus",
    key_hint_stored: "хранится в системной связке ключей; введите, чтобы заменить",
    account_hint: "из расширения «API телефонии»",
    web_hint: "выводится из адреса API",
    who_opens: "Кто открывает задачу",
    open_app: "Это приложение, когда звонок зарегистрирован",
    open_pyrus: "Pyrus, у пользователя с совпадающим рабочим телефоном",
    open_pyrus_hover: "Если открыть задачу и здесь, у оператора будет две вкладки.",
    open_nobody: "Никто: я нажимаю «Открыть задачу»",
    language: "Язык",
    test_connection: "Проверить подключение",
    signed_in_api: "Подключено. API: {}",
    save: "Сохранить",
    cancel: "Отмена",
    saved: "Сохранено. Ключ безопасности — в системной связке ключей.",
    welcome: "Добро пожаловать в pyrus-phone",
    welcome_text: "Подключите приложение к учётной записи Pyrus ниже или сначала попробуйте встроенную демо-песочницу.",
    try_demo: "Попробовать демо",
    need_login: "Введите логин бота (или пользователя) Pyrus.",
    need_account: "Введите ID аккаунта из расширения «API телефонии» в Pyrus.",
    need_key: "Введите ключ безопасности: для этого логина он ещё не сохранён.",
    field_from: "Откуда",
    field_to: "Куда",
    field_internal: "Внутренний номер",
    phone_empty: "номер пустой: введите цифры, можно с + в начале",
    phone_bad_char: "в номере есть «{}»: допустимы цифры, + в начале, пробелы, дефисы, точки и скобки",
    phone_plus: "«+» может стоять только в начале номера",
    phone_short: "в номере {} цифр(ы): нужно хотя бы {}",
    phone_long: "в номере {} цифр: допустимо не больше 15 (E.164)",
    mapping_no_equals: "в поле «{}» нет «=»: пишите КОД=ЗНАЧЕНИЕ, например Subject=Consultation",
    mapping_no_code: "у поля пустой код: пишите КОД=ЗНАЧЕНИЕ",
    too_long: "{}: {} символов, а Pyrus принимает не больше 300 — сократите",
    long_external_id: "Внешний id",
    long_mapping_code: "Код поля",
    long_mapping_value: "Значение поля {}",
    external_id_empty: "внешний id пустой: укажите id звонка из софтфона или оставьте поле пустым",
    unsupported_audio: "«{}» — не аудиофайл, который Pyrus прикрепляет: подойдут ac3, mp3, ogg, wav, wma",
    unknown_country: "«{}» — не код страны: укажите две буквы, например RU, KZ или DE",
    sent_as: "Отправится как {}",
    sent_as_typed: "Отправится как введено: {} (не распознан как полный номер)",
    default_country: "Страна по умолчанию",
    country_hint: "RU, KZ, DE… (для номеров без +)",
    presets: "Шаблоны",
    preset_hover: "Заполнить поля этого шаблона",
    choose_option: "выбрать…",
    field_options_n: "Варианты поля {}",
    help: "Горячие клавиши",
    help_register: "Enter — зарегистрировать звонок",
    help_focus: "Ctrl+L — перейти к полю «Откуда»",
    help_open: "Ctrl+O — открыть задачу последнего звонка",
    help_attach: "Ctrl+R — прикрепить запись к последнему звонку",
    help_settings: "Ctrl+, — настройки",
    help_help: "F1 — этот список (Esc закрывает)",
    close: "Закрыть",
    always_on_top: "Поверх других окон",
    close_title: "Звонки ещё не отправлены",
    close_text: "{}. Они сохранены и будут отправлены при следующем запуске pyrus-phone.",
    close_anyway: "Всё равно закрыть",
    keep_open: "Не закрывать",
    form_id: "ID формы",
    form_id_hint: "форма, к которой подключено расширение телефонии",
    fields_error: "Не удалось прочитать поля формы: {}",
    direction: "Направление",
    incoming: "Входящий",
    outgoing: "Исходящий",
    tab_sources: "Источники звонков",
    src_command: "Командный хук (MicroSIP и другие)",
    src_http: "HTTP-хук и настольные телефоны",
    src_baresip: "baresip",
    src_simulated: "Пробные звонки",
    src_recordings: "Папка записей",
    health_listening: "принимает события на {}",
    health_hook_off: "выключен в настройках",
    health_hook_failed: "не принимает события: {}",
    port_taken: "Порт {} занят другой программой, поэтому pyrus-phone принимает события на {}. Команды софтфона (MicroSIP) и «Проверочный звонок» работают; настольные телефоны настроены на порт {} и до pyrus-phone не дойдут. Закройте ту программу (или второй pyrus-phone) и проверьте снова.",
    port_try_again: "Снова занять порт {}",
    status_port_taken: "Порт {} занят: телефоны не достучатся до pyrus-phone (F2)",
    src_outbox: "Очередь отправки",
    outbox_broken: "услышанные звонки не сохраняются и отклоняются, пока это не исправлено: {}",
    status_outbox_broken: "Звонки не сохраняются: см. «Источники звонков» (F2)",
    token_kept: "токен хранится в системной связке ключей",
    token_this_run: "токен действует только до выхода ({})",
    health_allow: "открыт также для {}",
    baresip_connected: "подключён к {}",
    baresip_waiting: "нет связи с {}: {}",
    baresip_none: "не настроен (файл настроек: sources.baresip)",
    folder_ok: "{} читается",
    folder_bad: "{} не читается: {}",
    folder_none: "не задана: записи прикрепляются вручную",
    via_command: "командный хук — эта же программа; здесь его настраивать не нужно",
    simulate_title: "Пробный звонок",
    simulate_demo: "Отправляет звонок, ответ и завершение тем же путём, что и софтфон. Звонок регистрируется в демо-песочнице.",
    simulate_real: "Отправляет звонок, ответ и завершение тем же путём, что и софтфон. Звонок регистрируется в вашем аккаунте Pyrus и создаёт настоящую задачу.",
    simulate_number: "Номер звонящего",
    microsip_title: "MicroSIP: вставьте в microsip.ini, раздел [Settings], закрыв MicroSIP",
    microsip_too_long: "Строка длиннее, чем читает MicroSIP (255 символов): установите pyrus-phone по более короткому пути",
    action_url_title: "Action URL для настольных телефонов (переменные Yealink; у Snom идентификатор звонка — $call-id)",
    action_url_local: "Телефоны в сети достучатся сюда, только если в настройках включено «Принимать события из сети».",
    raw_title: "Последние сообщения, сначала новые",
    raw_none: "Пока ничего не получено.",
    verdict_accepted: "принято",
    verdict_ignored: "пропущено",
    verdict_sent: "отправлено",
    verdict_refused: "отклонено: {}",
    verdict_waiting: "сохранено, ждёт: {}",
    copy: "Копировать",
    show: "Показать",
    hide: "Скрыть",
    check_again: "Проверить снова",
    new_token: "Новый токен",
    new_token_hover: "Телефоны и хуки со старым токеном перестанут приниматься",
    hook_token: "Токен приёмника событий",
    hook_token_none: "приёмник событий выключен",
    ringing: "Входящий звонок: {}",
    answer: "Ответить",
    answer_hover: "Ответить в baresip",
    open_on: "Открывать задачу звонка из софтфона",
    open_on_ring: "когда звонит",
    open_on_answer: "когда ответили",
    open_on_manual: "только вручную",
    hook_section: "Приёмник событий",
    hook_network: "Принимать события из сети для настольных телефонов (обычный HTTP — только в доверенной сети офиса; после перезапуска)",
    hook_allow: "Разрешённые адреса",
    hook_allow_hint: "192.168.1.20, 192.168.1.0/24",
    simulate_button: "Позвонить",
    line_number: "Номер этой линии",
    line_hint: "«Кому» входящих звонков, например +7 495 300-90-80",
    internal_hint: "ваш в Pyrus (рабочий телефон), например 200",
    own_internal: "Ваш внутренний номер",
    help_sources: "F2 — источники звонков: проверка, пробный звонок, настройка",
    to_form: "В форму",
    register_on: "Регистрировать звонок из софтфона",
    register_missed: "Регистрировать и пропущенные звонки",
    baresip_addr: "Адрес управления baresip",
    baresip_hint: "127.0.0.1:4444 (ctrl_tcp); после перезапуска",
    recordings_dir: "Папка записей софтфона",
    recordings_hint: "найденные там записи прикрепляются сами",
    advice: &[
        (
            "line_number_missing",
            "номер этой линии не задан: укажите его в настройках, и звонок будет зарегистрирован",
        ),
        ("invalid_credentials", "проверьте логин и ключ безопасности"),
        (
            "bad_baresip",
            "это не адрес управления baresip: укажите хост:порт, например 127.0.0.1:4444",
        ),
        (
            "expired_token",
            "сессия закончилась, повторный вход не помог: проверьте логин и ключ",
        ),
        (
            "revoked_token",
            "сессия отозвана, повторный вход не помог: проверьте логин и ключ",
        ),
        (
            "invalid_token",
            "сессия недействительна: проверьте логин и ключ",
        ),
        (
            "account_blocked",
            "учётная запись Pyrus заблокирована: обратитесь к администратору",
        ),
        (
            "access_denied",
            "нет доступа: дайте боту доступ к форме, к которой подключено расширение",
        ),
        (
            "unrecognized_account_id",
            "ID аккаунта не найден: скопируйте его из настроек расширения «API телефонии»",
        ),
        (
            "required_parameters_not_specified",
            "не указан звонок: нужен id задачи, внешний id или оба номера",
        ),
        (
            "required_parameter_missing",
            "не указан обязательный параметр",
        ),
        (
            "invalid_field_mapping_code",
            "в форме нет поля с таким кодом: проверьте коды в редакторе формы",
        ),
        (
            "unsupported_record_file_format",
            "запись должна быть в формате ac3, mp3, ogg, wav или wma",
        ),
        (
            "unrecognized_call_id",
            "Pyrus не знает такого звонка: сначала зарегистрируйте его",
        ),
        (
            "unrecognized_task_id",
            "задача не найдена или недоступна этому логину",
        ),
        (
            "unrecognized_attachment_id",
            "загруженный файл устарел: прикрепите запись заново",
        ),
        (
            "text_field_value_limit_exceeded",
            "значение слишком длинное: не больше 300 символов",
        ),
        (
            "invalid_value_format",
            "значение не подходит полю (дата, число или вариант выбора)",
        ),
        (
            "empty_file",
            "запись пустая: выберите настоящий файл записи",
        ),
        (
            "attachment_too_big",
            "запись больше, чем принимает Pyrus (2 ГБ)",
        ),
        (
            "too_many_requests",
            "слишком много запросов: отправим, когда Pyrus разрешит",
        ),
        ("server_error", "внутренняя ошибка Pyrus: повторим позже"),
        (
            "network",
            "Pyrus недоступен: работа сохранена и будет отправлена позже",
        ),
        (
            "timeout",
            "Pyrus не ответил вовремя: работа сохранена и будет отправлена позже",
        ),
        ("cancelled", "загрузка остановлена"),
        (
            "credentials_missing",
            "не настроены учётные данные: откройте «Настройки»",
        ),
        (
            "registration_failed",
            "звонок не зарегистрирован: сначала повторите или отмените регистрацию",
        ),
    ],
};

#[cfg(test)]
mod tests {
    use super::{EN, Language, RU, fill};
    use crate::domain::CallRequest;

    #[test]
    fn language_from_the_locale() {
        assert_eq!(
            Language::from_locales(["", "ru_RU.UTF-8", "en_US"]),
            Language::Ru
        );
        assert_eq!(Language::from_locales(["C", "en_GB.UTF-8"]), Language::En);
        assert_eq!(Language::from_locales(["de_DE.UTF-8"]), Language::En);
        assert_eq!(Language::from_code("ru-RU"), Some(Language::Ru));
    }

    #[test]
    fn templates_and_plurals() {
        assert_eq!(fill("Task {} of {}", &[&7, &"x"]), "Task 7 of x");
        assert_eq!(RU.jobs(1), "1 задание в очереди");
        assert_eq!(RU.jobs(3), "3 задания в очереди");
        assert_eq!(RU.jobs(11), "11 заданий в очереди");
        assert_eq!(RU.jobs(22), "22 задания в очереди");
        assert_eq!(EN.jobs(1), "1 job waiting");
        assert_eq!(EN.jobs(5), "5 jobs waiting");
        assert_eq!(EN.jobs(0), "nothing waiting");
    }

    #[test]
    fn input_errors_read_in_both_languages() {
        let err = CallRequest::parse("12a", "+7495", None, None, vec![]).unwrap_err();
        assert_eq!(
            EN.input_error(&err),
            err.to_string(),
            "the English catalogue matches the domain's words"
        );
        assert!(
            RU.input_error(&err)
                .starts_with("Откуда: в номере есть «a»")
        );
    }

    #[test]
    fn advice_falls_back_to_the_message() {
        assert_eq!(
            RU.advice(Some("empty_file"), "x"),
            "запись пустая: выберите настоящий файл записи"
        );
        assert_eq!(RU.advice(Some("brand_new_code"), "as sent"), "as sent");
        // The settings' own refusals are in Russian too, saying what to write.
        assert!(
            RU.advice(Some("bad_baresip"), "x")
                .contains("127.0.0.1:4444")
        );
        assert_eq!(
            EN.advice(Some("empty_file"), "the English message"),
            "the English message"
        );
    }
}
