//! The settings file (`settings.toml` in the config directory) and environment overrides.
//!
//! Holds everything but secrets: the security key lives only in the OS keyring (see
//! [`credentials`]), the access token only in memory. Old files load into new versions
//! (every field has a default); writes are atomic (temp file + rename).

mod admin;
pub mod credentials;
mod outcome;
mod problems;

pub use admin::{AdminBroken, AdminView};
pub use outcome::{OutcomeSettings, OutcomeWords};
pub use problems::{Problem, ProblemKind};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{Country, Mapping, PhoneNumber};
pub use crate::pyrus::DEFAULT_AUTH_URL;

/// The current settings format: 2 holds only what the user changed (1, written by older
/// versions, held every default).
pub const SETTINGS_VERSION: u32 = 2;

/// Everything configurable, as stored in `settings.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Format version.
    pub version: u32,
    /// Where and as whom to reach Pyrus.
    pub pyrus: PyrusSettings,
    /// Defaults for new calls.
    pub defaults: CallDefaults,
    /// How the window behaves.
    pub window: WindowSettings,
    /// When calls heard from softphones are registered.
    pub calls: CallPolicy,
    /// The loopback event hook.
    pub hook: HookSettings,
    /// Softphones heard directly, and where they keep recordings.
    pub sources: SourceSettings,
    /// Who is calling: the forms whose customers' numbers are indexed.
    pub caller: CallerSettings,
    /// What a wrap-up offers besides the notes.
    pub wrapup: WrapupSettings,
    /// The form fields a call's outcome fills by itself.
    pub outcome: OutcomeSettings,
}

/// The wrap-up after a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WrapupSettings {
    /// Codes of the form's fields a wrap-up sets (a choice such as `Result`, text fields).
    pub fields: Vec<String>,
}

/// Who is calling: the index of customers' numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallerSettings {
    /// Look callers up (keep the index) at all.
    pub enabled: bool,
    /// Forms indexed besides `pyrus.form_id`.
    pub forms: Vec<u64>,
    /// Codes of the fields holding customers' phones; empty: every field of type `phone`.
    pub phone_fields: Vec<String>,
}

impl Default for CallerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            forms: Vec::new(),
            phone_fields: Vec::new(),
        }
    }
}

impl Settings {
    /// The forms whose customers are indexed: the settings' form, then the extra ones
    /// (none when looking callers up is off).
    pub fn caller_forms(&self) -> Vec<u64> {
        if !self.caller.enabled {
            return Vec::new();
        }
        let mut forms: Vec<u64> = self.pyrus.form_id.into_iter().collect();
        for form in &self.caller.forms {
            if !forms.contains(form) {
                forms.push(*form);
            }
        }
        forms
    }
}

/// Softphones heard directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceSettings {
    /// baresip's `ctrl_tcp` address (`127.0.0.1:4444`), when baresip is the softphone.
    pub baresip: Option<String>,
    /// The softphone's recording folder; recordings found there are attached by themselves.
    pub recordings_dir: Option<PathBuf>,
    /// Twinkle's folder (its profiles and call history), when it is not `~/.twinkle`.
    pub twinkle_dir: Option<PathBuf>,
    /// Read Twinkle's call history and register the calls no call script reported (calls
    /// taken while pyrus-phone was not running, or before it was set up).
    pub twinkle_history: bool,
    /// The command that dials a number for Call back (`%s` is the number, else it goes
    /// last): `microsip.exe`, `twinkle --call %s`. Empty: baresip when it is the softphone,
    /// else the desktop's `tel:` handler (never pyrus-phone itself).
    pub dial_command: Option<String>,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            baresip: None,
            recordings_dir: None,
            twinkle_dir: None,
            twinkle_history: true,
            dial_command: None,
        }
    }
}

/// When a call heard from a softphone is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOn {
    /// As soon as it rings (or is dialled).
    #[default]
    Ring,
    /// When it is answered.
    Answer,
    /// Only when the agent presses Register.
    Manual,
}

/// When the task of a call heard from a softphone is opened in the browser (with
/// `window.open_task = "app"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OpenOn {
    /// As soon as the ringing call is registered.
    #[default]
    Ring,
    /// When the call is answered (and registered).
    Answer,
    /// Only when the agent clicks "Open task".
    Manual,
}

/// How softphone calls become registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallPolicy {
    /// When to register.
    pub register_on: RegisterOn,
    /// Register a call that rang and ended unanswered (with `register_on = "answer"`).
    pub register_missed: bool,
    /// When to open the task.
    pub open_on: OpenOn,
    /// When a call ends, say on its task what became of it (answered or missed, the times,
    /// how long the talk was): as the fields `[outcome]` names, else as a comment.
    pub send_outcome: bool,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            register_on: RegisterOn::Ring,
            register_missed: true,
            open_on: OpenOn::Ring,
            send_outcome: true,
        }
    }
}

/// The event hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HookSettings {
    /// Listen for events at all.
    pub enabled: bool,
    /// The port.
    pub port: u16,
    /// Listen on the network too (for desk phones), for the addresses in `allow` only.
    /// Plain HTTP: use it on a trusted office network.
    pub network: bool,
    /// Addresses or networks allowed to send events besides this computer
    /// (`192.168.1.20`, `192.168.1.0/24`).
    pub allow: Vec<String>,
}

impl Default for HookSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            port: 47812,
            network: false,
            allow: Vec::new(),
        }
    }
}

impl HookSettings {
    /// The allow-list, checked: listening on the network needs at least one entry.
    pub fn allow_rules(
        &self,
    ) -> Result<Vec<crate::domain::sources::AllowRule>, crate::domain::sources::AllowListError>
    {
        let rules = crate::domain::sources::parse_allow_list(&self.allow)?;
        if self.network && rules.is_empty() {
            return Err(crate::domain::sources::AllowListError::Empty);
        }
        Ok(rules)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: SETTINGS_VERSION,
            pyrus: PyrusSettings::default(),
            defaults: CallDefaults::default(),
            window: WindowSettings::default(),
            calls: CallPolicy::default(),
            hook: HookSettings::default(),
            sources: SourceSettings::default(),
            caller: CallerSettings::default(),
            wrapup: WrapupSettings::default(),
            outcome: OutcomeSettings::default(),
        }
    }
}

/// Who opens a registered call's task in the agent's browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OpenTask {
    /// pyrus-phone opens the link when the call is registered.
    #[default]
    App,
    /// Pyrus opens it for the user whose Work phone matches the internal number (opening it
    /// here too would give the agent two tabs).
    Pyrus,
    /// Nobody: the agent clicks "Open task".
    Nobody,
}

/// The window's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WindowSettings {
    /// Who opens the task of a call registered from the window.
    pub open_task: OpenTask,
    /// Interface language code (`en`, `ru`); the system's when empty.
    pub language: Option<String>,
    /// Keep the window above others.
    pub always_on_top: bool,
    /// Start with the session (the platform's autostart entry), minimised.
    pub start_at_login: bool,
}

/// Pyrus connection settings (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PyrusSettings {
    /// The full auth endpoint.
    pub auth_url: String,
    /// Web address for task links (on-premise); derived from `api_url` when empty.
    pub web_base: Option<String>,
    /// The API telephony extension's account id.
    pub account_id: String,
    /// The bot's (or user's) login.
    pub login: String,
    /// Only when several accounts share one e-mail.
    pub person_id: Option<u64>,
    /// The form whose field codes the mapping editor offers.
    pub form_id: Option<u64>,
}

impl Default for PyrusSettings {
    fn default() -> Self {
        Self {
            auth_url: DEFAULT_AUTH_URL.to_owned(),
            web_base: None,
            account_id: String::new(),
            login: String::new(),
            person_id: None,
            form_id: None,
        }
    }
}

/// Defaults applied to new calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CallDefaults {
    /// This line's number, used as `to` for incoming calls when the source gives none.
    pub line_number: String,
    /// The agent's internal number.
    pub internal_number: String,
    /// Mappings added to every call.
    pub mappings: Vec<Mapping>,
    /// Country for numbers typed without a country code (ISO 3166 code, e.g. `RU`): such
    /// numbers are sent in E.164 form.
    pub country: Option<String>,
    /// Named sets of mappings the agent applies in one click ("Consultation", "Complaint").
    pub presets: Vec<Preset>,
}

impl CallDefaults {
    /// The default country, when the setting names one (an unknown code is refused when
    /// the settings are saved; here it reads as none).
    pub fn country(&self) -> Option<Country> {
        self.country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .and_then(|c| Country::parse(c).ok())
    }

    /// This line's number, normalised with the default country; `None` when unset.
    pub fn line(&self) -> Option<PhoneNumber> {
        PhoneNumber::parse_extension(&self.line_number)
            .ok()
            .map(|n| n.normalised(self.country()))
    }
}

/// A named set of mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Preset {
    /// What the agent sees.
    pub name: String,
    /// The rows it fills.
    pub mappings: Vec<Mapping>,
}

/// The settings file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Not valid TOML or wrong types.
    #[error("the settings file is not valid ({reason}); fix or delete it — {path}")]
    Invalid {
        /// What the parser said.
        reason: String,
        /// The file.
        path: PathBuf,
    },
    /// An I/O failure.
    #[error("cannot {action} the settings file ({source}) — {path}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
}

/// Values from the environment that override the file for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    /// `PYRUS_LOGIN`.
    pub login: Option<String>,
    /// `PYRUS_ACCOUNT_ID`.
    pub account_id: Option<String>,
    /// `PYRUS_AUTH_URL`.
    pub auth_url: Option<String>,
}

impl EnvOverrides {
    /// Reads the variables from this process's environment.
    pub fn from_process() -> Self {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        Self {
            login: var("PYRUS_LOGIN"),
            account_id: var("PYRUS_ACCOUNT_ID"),
            auth_url: var("PYRUS_AUTH_URL"),
        }
    }
}

/// The most a settings file may hold: far more than any real one, far less than a file
/// someone points at a disk image.
pub const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;

/// Reads a settings file: a regular file of text, at most [`MAX_SETTINGS_BYTES`]; a pipe, a
/// device or a link to one is refused at once (`platform::files`), never waited on.
pub(crate) fn read_settings_text(path: &Path) -> std::io::Result<String> {
    crate::platform::files::read_text_bounded(path, MAX_SETTINGS_BYTES)
}

impl Settings {
    /// Loads the file; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match read_settings_text(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(SettingsError::Io {
                    action: "read",
                    source,
                    path: path.to_path_buf(),
                });
            }
        };
        let settings: Self = toml::from_str(&text).map_err(|e| SettingsError::Invalid {
            reason: admin::located(&text, &e),
            path: path.to_path_buf(),
        })?;
        settings.checked(|_| path)
    }

    /// Checks what types alone cannot ([`Settings::validate`]). A problem that would make
    /// the app unsafe to run (an allow-list that cannot be read) refuses the file, naming
    /// it and `path`; the others are logged with the file and the key, and wait where they
    /// matter (a call with no usable line number is held, a bad address is refused when
    /// used) — and the settings view, Save and Test connection show them.
    fn checked<'a>(mut self, file_of: impl Fn(&str) -> &'a Path) -> Result<Self, SettingsError> {
        let (blocking, other): (Vec<Problem>, Vec<Problem>) =
            self.validate().into_iter().partition(Problem::blocks_start);
        for problem in &other {
            let file = file_of(problem.key);
            tracing::warn!(file = %file.display(), %problem, "a setting cannot be used");
        }
        self.drop_unusable_mappings();
        let Some(first) = blocking.first() else {
            return Ok(self);
        };
        Err(SettingsError::Invalid {
            reason: blocking
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            path: file_of(first.key).to_path_buf(),
        })
    }

    /// Writes the user's file atomically, with only what differs from the defaults (see
    /// [`Settings::save_over_admin`]).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.save_over_admin(path, None)
    }
}

/// Writes `text` to `path` atomically (a temporary file renamed over it).
fn write_file(path: &Path, text: &str) -> Result<(), SettingsError> {
    let io = |source| SettingsError::Io {
        action: "write",
        source,
        path: path.to_path_buf(),
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

impl Settings {
    /// Applies environment overrides.
    pub fn apply(&mut self, env: &EnvOverrides) {
        if let Some(v) = &env.login {
            self.pyrus.login.clone_from(v);
        }
        if let Some(v) = &env.account_id {
            self.pyrus.account_id.clone_from(v);
        }
        if let Some(v) = &env.auth_url {
            self.pyrus.auth_url.clone_from(v);
        }
    }

    /// These settings with what the environment set for this run put back as `file` has
    /// it — unless the user changed it since: a value meant for one run is never saved.
    #[must_use]
    pub fn without_env(&self, env: &EnvOverrides, file: &Self) -> Self {
        let mut out = self.clone();
        let (mine, theirs) = (&mut out.pyrus, &file.pyrus);
        for (value, from_env, on_disk) in [
            (&mut mine.login, &env.login, &theirs.login),
            (&mut mine.account_id, &env.account_id, &theirs.account_id),
            (&mut mine.auth_url, &env.auth_url, &theirs.auth_url),
        ] {
            if from_env.as_deref() == Some(value.as_str()) {
                value.clone_from(on_disk);
            }
        }
        out
    }

    /// True when a login and an account id are configured.
    pub fn has_account(&self) -> bool {
        !self.pyrus.login.trim().is_empty() && !self.pyrus.account_id.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{EnvOverrides, Settings};

    #[test]
    fn old_and_partial_files_load_with_defaults() {
        let s: Settings = toml::from_str("[pyrus]\nlogin = \"bot@x\"\nunknown = 1\n").unwrap();
        assert_eq!(s.pyrus.login, "bot@x");
        assert_eq!(s.pyrus.auth_url, crate::pyrus::DEFAULT_AUTH_URL);
        assert_eq!(s.version, super::SETTINGS_VERSION);
    }

    #[test]
    fn the_users_file_lies_over_the_administrators_and_saves_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let admin = dir.path().join("admin.toml");
        let user = dir.path().join("user.toml");
        let write = |path: &std::path::Path, text: &str| {
            let mut f = std::fs::File::create(path).unwrap();
            std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        };
        write(
            &admin,
            "[pyrus]\naccount_id = \"fleet\"\nlogin = \"bot@fleet\"\n\n[defaults]\ncountry = \"KZ\"\n\n[[defaults.presets]]\nname = \"Sales\"\nmappings = [{ code = \"Subject\", value = \"Sale\" }]\n",
        );
        // An old file that wrote every key, empty ones too, and one value of the user's own.
        write(
            &user,
            "[pyrus]\naccount_id = \"\"\nlogin = \"me@desk\"\n\n[defaults]\npresets = []\n",
        );
        let s = Settings::load_with_admin(&user, Some(&admin)).unwrap();
        assert_eq!(s.pyrus.account_id, "fleet", "empty says nothing");
        assert_eq!(s.pyrus.login, "me@desk", "the user's own wins");
        assert_eq!(s.defaults.country.as_deref(), Some("KZ"));
        assert_eq!(s.defaults.presets[0].name, "Sales");
        let mut marked = Settings::from_admin(&user, Some(&admin)).keys;
        marked.sort();
        assert_eq!(
            marked,
            vec!["defaults.country", "defaults.presets", "pyrus.account_id"]
        );
        // Saving keeps the administrator's values out of the user's file.
        s.save_over_admin(&user, Some(&admin)).unwrap();
        let text = std::fs::read_to_string(&user).unwrap();
        assert!(!text.contains("fleet") && !text.contains("Sales"), "{text}");
        assert!(text.contains("me@desk"), "{text}");
        assert_eq!(Settings::load_with_admin(&user, Some(&admin)).unwrap(), s);
        // No administrator's file: the user's alone.
        assert_eq!(
            Settings::load_with_admin(&user, Some(&dir.path().join("none.toml")))
                .unwrap()
                .pyrus
                .account_id,
            ""
        );
    }

    #[test]
    fn save_then_load_round_trips_and_env_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/settings.toml");
        let mut s = Settings::default();
        s.pyrus.account_id = "acc".into();
        s.save(&path).unwrap();
        let mut back = Settings::load(&path).unwrap();
        assert_eq!(back, s);
        let env = EnvOverrides {
            login: Some("env@x".into()),
            ..EnvOverrides::default()
        };
        back.apply(&env);
        assert_eq!(back.pyrus.login, "env@x");
        assert_eq!(back.pyrus.account_id, "acc");
        // What the environment set for one run is not saved as the user's; a login the
        // user typed over it is.
        let file = Settings::load(&path).unwrap();
        assert_eq!(back.without_env(&env, &file).pyrus.login, "");
        back.pyrus.login = "typed@x".into();
        assert_eq!(back.without_env(&env, &file).pyrus.login, "typed@x");
    }

    #[test]
    fn a_broken_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut std::fs::File::create(&path).unwrap(), b"[pyrus\n").unwrap();
        let err = Settings::load(&path).unwrap_err().to_string();
        assert!(err.contains("settings.toml"), "{err}");
    }

    #[test]
    fn only_an_unreadable_allow_list_keeps_a_file_from_loading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let write = |text: &str| {
            std::io::Write::write_all(&mut std::fs::File::create(&path).unwrap(), text.as_bytes())
                .unwrap();
        };
        // A typo in a number is held where it matters, not a reason not to start.
        write("[defaults]\nline_number = \"call me\"\n");
        let loaded = Settings::load(&path).unwrap();
        assert_eq!(loaded.defaults.line(), None);
        assert_eq!(loaded.validate()[0].key, "defaults.line_number");
        // Who may send events is never guessed at.
        write("[hook]\nnetwork = true\nallow = [\"phone.local\"]\n");
        let err = Settings::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("hook.allow: 'phone.local' is not an address"),
            "{err}"
        );
        assert!(err.contains("settings.toml"), "{err}");
        // From the administrator's file, that file is left out and named; the user's runs.
        let admin = dir.path().join("admin.toml");
        std::fs::rename(&path, &admin).unwrap();
        write("[defaults]\nline_number = \"+74953009080\"\n");
        let (loaded, view) = Settings::load_layered(&path, Some(&admin)).unwrap();
        assert!(!loaded.hook.network, "nothing of the broken file is used");
        assert_eq!(loaded.defaults.line_number, "+74953009080");
        let broken = view.broken.unwrap().to_string();
        assert!(broken.contains("admin.toml"), "{broken}");
        assert!(
            broken.contains("'phone.local' is not an address"),
            "{broken}"
        );
    }

    fn write(path: &std::path::Path, text: &str) {
        std::io::Write::write_all(&mut std::fs::File::create(path).unwrap(), text.as_bytes())
            .unwrap();
    }

    #[test]
    fn default_mappings_no_call_could_carry_are_named_and_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let long = "x".repeat(301);
        write(
            &path,
            &format!(
                "[defaults]\nmappings = [{{ code = \"Note\", value = \"{long}\" }}, {{ code = \"Line\", value = \"two\\nlines\" }}]\n\n[[defaults.presets]]\nname = \"Sales\"\nmappings = [{{ code = \"Subject\", value = \"Sale\\u202E\" }}, {{ code = \"Kind\", value = \"sale\" }}]\n"
            ),
        );
        let raw: Settings = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let problems: Vec<String> = raw.validate().iter().map(ToString::to_string).collect();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("defaults.mappings:") && p.contains("301 characters")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("defaults.presets:")
                    && p.contains("hidden character (U+202E)")),
            "{problems:?}"
        );
        let loaded = Settings::load(&path).unwrap();
        let codes =
            |m: &[crate::domain::Mapping]| m.iter().map(|m| m.code.clone()).collect::<Vec<_>>();
        assert_eq!(
            codes(&loaded.defaults.mappings),
            ["Line"],
            "a line break is a value's own"
        );
        assert_eq!(codes(&loaded.defaults.presets[0].mappings), ["Kind"]);
        assert!(loaded.validate().is_empty());
    }

    #[test]
    fn a_broken_administrators_file_leaves_the_users_own_settings_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let (user, admin) = (dir.path().join("user.toml"), dir.path().join("admin.toml"));
        write(&user, "[pyrus]\nlogin = \"me@desk\"\n");
        for (text, says) in [
            (
                "[pyrus]\naccount_id = \"fleet\"\n\n[calls\nregister_on = \"answer\"\n",
                "line 4",
            ),
            ("[hook]\nport = \"high\"\n", "line 2: invalid type"),
            ("locked = \"hook\"\n", "`locked` is a list of keys"),
        ] {
            write(&admin, text);
            let (loaded, view) = Settings::load_layered(&user, Some(&admin)).unwrap();
            assert_eq!(loaded.pyrus.login, "me@desk", "{text}");
            assert_eq!(loaded.pyrus.account_id, "", "{text}");
            let broken = view.broken.expect(text);
            assert!(broken.reason.contains(says), "{text}: {}", broken.reason);
            assert_eq!(broken.path, admin);
        }
        // A broken file of the user's own is still theirs to fix.
        write(&admin, "[pyrus]\naccount_id = \"fleet\"\n");
        write(&user, "[pyrus\n");
        let err = Settings::load_layered(&user, Some(&admin))
            .unwrap_err()
            .to_string();
        assert!(err.contains("user.toml") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn save_writes_only_the_users_changes_so_later_administrator_values_apply() {
        let dir = tempfile::tempdir().unwrap();
        let (user, admin) = (dir.path().join("user.toml"), dir.path().join("admin.toml"));
        let mut mine = Settings::default();
        mine.pyrus.login = "me@desk".into();
        mine.save_over_admin(&user, Some(&admin)).unwrap();
        let text = std::fs::read_to_string(&user).unwrap();
        assert!(
            text.contains("me@desk") && text.contains("version = 2"),
            "{text}"
        );
        assert!(
            !text.contains("register_on") && !text.contains("port"),
            "{text}"
        );
        // The administrator sets values after the user's Save: they apply.
        write(
            &admin,
            "[calls]\nregister_on = \"answer\"\n\n[hook]\nport = 50000\n",
        );
        let (loaded, view) = Settings::load_layered(&user, Some(&admin)).unwrap();
        assert_eq!(loaded.calls.register_on, super::RegisterOn::Answer);
        assert_eq!(loaded.hook.port, 50000);
        assert_eq!(loaded.pyrus.login, "me@desk");
        assert!(view.sets("calls.register_on") && view.sets("hook") && !view.sets("pyrus"));
        // A file an older Save wrote held every default: those say nothing now.
        write(
            &user,
            "version = 1\n\n[pyrus]\nlogin = \"me@desk\"\n\n[calls]\nregister_on = \"ring\"\nopen_on = \"manual\"\n",
        );
        let loaded = Settings::load_with_admin(&user, Some(&admin)).unwrap();
        assert_eq!(loaded.calls.register_on, super::RegisterOn::Answer);
        assert_eq!(
            loaded.calls.open_on,
            super::OpenOn::Manual,
            "a choice of the user's own"
        );
    }

    #[test]
    fn a_locked_value_is_the_administrators_whatever_the_user_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let (user, admin) = (dir.path().join("user.toml"), dir.path().join("admin.toml"));
        write(
            &admin,
            "locked = [\"calls.register_on\", \"hook\"]\n\n[calls]\nregister_on = \"answer\"\n",
        );
        write(
            &user,
            "[calls]\nregister_on = \"manual\"\nopen_on = \"manual\"\n\n[hook]\nport = 50001\n",
        );
        let (mut loaded, view) = Settings::load_layered(&user, Some(&admin)).unwrap();
        assert_eq!(loaded.calls.register_on, super::RegisterOn::Answer);
        assert_eq!(loaded.calls.open_on, super::OpenOn::Manual);
        assert_eq!(loaded.hook.port, super::HookSettings::default().port);
        assert!(view.locks("calls.register_on") && view.locks("hook.port"));
        assert!(!view.locks("calls.open_on") && !view.locks("calls"));
        // Save never writes a locked value.
        loaded.hook.port = 50002;
        loaded.save_over_admin(&user, Some(&admin)).unwrap();
        let text = std::fs::read_to_string(&user).unwrap();
        assert!(
            !text.contains("50002") && !text.contains("register_on"),
            "{text}"
        );
        assert!(text.contains("open_on"), "{text}");
    }
}
