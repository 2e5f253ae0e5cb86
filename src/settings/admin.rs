//! The administrator's machine-wide settings file under the user's own: how the two are laid
//! together, which values in force are the administrator's and which are locked, what Save
//! leaves out of the user's file (anything that is not the user's own change), and a broken
//! machine-wide file — which never stops the app: it runs with the user's own settings and
//! says which file is broken and where.
//!
//! The administrator's file is a settings file like the user's, plus one top-level key,
//! `locked = ["calls.register_on", "hook"]`: keys (or whole sections) whose value is the
//! administrator's whatever the user's file says.

use std::path::{Path, PathBuf};

use super::{SETTINGS_VERSION, Settings, SettingsError, write_file};

/// The administrator's file's own key: what the user may not change.
const LOCKED: &str = "locked";

/// What the administrator's file means for this user, as the settings view shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminView {
    /// The dotted keys whose value in force comes from the administrator's file.
    pub keys: Vec<String>,
    /// The dotted keys (or sections) the administrator locked.
    pub locked: Vec<String>,
    /// The administrator's file could not be used: the user's own settings are in force.
    pub broken: Option<AdminBroken>,
}

impl AdminView {
    /// True when the administrator's file sets `key` (or something under it).
    pub fn sets(&self, key: &str) -> bool {
        self.keys.iter().any(|k| covers(key, k) || covers(k, key))
    }

    /// True when `key` is locked (itself, or its section).
    pub fn locks(&self, key: &str) -> bool {
        self.locked.iter().any(|k| covers(k, key))
    }
}

/// The administrator's file, and why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminBroken {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, and where (`line 3: invalid table header`).
    pub reason: String,
}

impl std::fmt::Display for AdminBroken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} — {}", self.reason, self.path.display())
    }
}

/// True when `outer` is `inner` or a section holding it (`hook` covers `hook.port`).
fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The administrator's file, read: its values and its locks.
struct AdminLayer {
    values: toml::Table,
    locked: Vec<String>,
}

impl AdminLayer {
    /// Reads the file: `Ok(None)` when there is none, `Err` when it cannot be used.
    fn read(path: &Path) -> Result<Option<Self>, AdminBroken> {
        let broken = |reason: String| AdminBroken {
            path: path.to_path_buf(),
            reason,
        };
        let Some(mut values) = read_table(path).map_err(|e| broken(e.reason()))? else {
            return Ok(None);
        };
        let locked = match values.remove(LOCKED) {
            None => Vec::new(),
            Some(toml::Value::Array(keys)) => keys
                .into_iter()
                .map(|k| match k {
                    toml::Value::String(k) => Ok(k.trim().to_owned()),
                    other => Err(broken(format!(
                        "`{LOCKED}` lists keys as text, e.g. \"calls.register_on\"; {other} is not text"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(broken(format!(
                    "`{LOCKED}` is a list of keys, e.g. {LOCKED} = [\"calls.register_on\"]"
                )));
            }
        };
        Ok(Some(Self { values, locked }))
    }
}

impl SettingsError {
    /// What is wrong, without the file's name.
    fn reason(&self) -> String {
        match self {
            Self::Invalid { reason, .. } => reason.clone(),
            Self::Io { action, source, .. } => format!("cannot {action} it: {source}"),
        }
    }
}

/// The user's file as a table, its values made to say only what the user chose: a file
/// written by an older Save (format version 1) held every default, so its defaults say
/// nothing; and what the administrator locked is not the user's to set.
fn user_layer(path: &Path, locked: &[String]) -> Result<toml::Table, SettingsError> {
    let mut table = read_table(path)?.unwrap_or_default();
    let old_format = table
        .get("version")
        .and_then(toml::Value::as_integer)
        .is_some_and(|v| v < 2);
    if old_format {
        strip_equal(&mut table, &defaults_table());
    }
    table.remove("version");
    for key in locked {
        remove_key(&mut table, key);
    }
    Ok(table)
}

/// The built-in defaults as a table.
fn defaults_table() -> toml::Table {
    match toml::Value::try_from(Settings::default()) {
        Ok(toml::Value::Table(table)) => table,
        _ => toml::Table::new(),
    }
}

/// Removes a dotted key (a value or a whole section) from `table`.
fn remove_key(table: &mut toml::Table, key: &str) {
    match key.split_once('.') {
        None => {
            table.remove(key);
        }
        Some((section, rest)) => {
            if let Some(toml::Value::Table(inner)) = table.get_mut(section) {
                remove_key(inner, rest);
            }
        }
    }
}

impl Settings {
    /// Loads the user's file over the administrator's (`admin`, when there is one): a value
    /// the user's file sets wins, unless it is empty text or an empty list, or locked;
    /// everything else comes from the administrator. A broken administrator's file is
    /// logged and left out (see [`Settings::load_layered`]).
    pub fn load_with_admin(user: &Path, admin: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_layered(user, admin).map(|(settings, _)| settings)
    }

    /// Loads as [`Settings::load_with_admin`] does, and says what the administrator's file
    /// means for this user. The administrator's file is left out — and named in the view
    /// and the log — when it cannot be read, is not valid, or brings a value that would
    /// stop the app; only the user's own file can stop it.
    pub fn load_layered(
        user: &Path,
        admin: Option<&Path>,
    ) -> Result<(Self, AdminView), SettingsError> {
        let layer = match admin.map(AdminLayer::read).transpose() {
            Ok(layer) => layer.flatten(),
            Err(broken) => return Self::without_admin(user, broken),
        };
        let (Some(layer), Some(admin)) = (layer, admin) else {
            return Ok((Self::load(user)?, AdminView::default()));
        };
        let user_table = user_layer(user, &layer.locked)?;
        let mut keys = Vec::new();
        admin_keys(&layer.values, &user_table, "", &mut keys);
        let mut merged = layer.values.clone();
        merge_over(&mut merged, &user_table);
        let settings: Self = match toml::Value::Table(merged).try_into() {
            Ok(settings) => settings,
            Err(e) => {
                let e: toml::de::Error = e;
                // Whose value does not fit: the administrator's, when theirs alone fails —
                // said with the line it is on.
                if Self::from_table(layer.values.clone()).is_err() {
                    let reason = super::read_settings_text(admin)
                        .ok()
                        .and_then(|text| {
                            toml::from_str::<Self>(&text)
                                .err()
                                .map(|e| located(&text, &e))
                        })
                        .unwrap_or_else(|| e.message().trim().to_owned());
                    let broken = AdminBroken {
                        path: admin.to_path_buf(),
                        reason,
                    };
                    return Self::without_admin(user, broken);
                }
                return Err(SettingsError::Invalid {
                    reason: e.message().to_owned(),
                    path: user.to_path_buf(),
                });
            }
        };
        // A value of the administrator's that would stop the app is left out with the file.
        if let Some(problem) = settings
            .validate()
            .into_iter()
            .find(|p| p.blocks_start() && keys.iter().any(|k| k == p.key))
        {
            let broken = AdminBroken {
                path: admin.to_path_buf(),
                reason: problem.to_string(),
            };
            return Self::without_admin(user, broken);
        }
        let settings = settings.checked(|key| {
            if keys.iter().any(|k| k == key) {
                admin
            } else {
                user
            }
        })?;
        let view = AdminView {
            keys,
            locked: layer.locked,
            broken: None,
        };
        Ok((settings, view))
    }

    /// The user's own settings, the administrator's file being broken.
    fn without_admin(user: &Path, broken: AdminBroken) -> Result<(Self, AdminView), SettingsError> {
        tracing::error!(
            file = %broken.path.display(),
            reason = %broken.reason,
            "the administrator's settings file cannot be used; running with the user's own settings"
        );
        let settings = Self::load(user)?;
        let view = AdminView {
            broken: Some(broken),
            ..AdminView::default()
        };
        Ok((settings, view))
    }

    fn from_table(table: toml::Table) -> Result<Self, toml::de::Error> {
        toml::Value::Table(table).try_into()
    }

    /// What the administrator's file means for this user (see [`AdminView`]).
    pub fn from_admin(user: &Path, admin: Option<&Path>) -> AdminView {
        match Self::load_layered(user, admin) {
            Ok((_, view)) => view,
            Err(_) => AdminView::default(),
        }
    }

    /// Writes the user's file with only the user's own choices: what differs from the
    /// built-in defaults laid under the administrator's values — never a default, never a
    /// locked value — so a value the administrator sets later reaches this user.
    pub fn save_over_admin(&self, path: &Path, admin: Option<&Path>) -> Result<(), SettingsError> {
        let io = |source| SettingsError::Io {
            action: "write",
            source,
            path: path.to_path_buf(),
        };
        let mut base = defaults_table();
        let layer = admin.and_then(|a| AdminLayer::read(a).ok().flatten());
        let locked = layer.as_ref().map(|l| l.locked.clone()).unwrap_or_default();
        if let Some(layer) = layer {
            merge_over(&mut base, &layer.values);
        }
        let mut mine = match toml::Value::try_from(self) {
            Ok(toml::Value::Table(mine)) => mine,
            Ok(_) => toml::Table::new(),
            Err(e) => return Err(io(std::io::Error::other(e))),
        };
        strip_equal(&mut mine, &base);
        mine.remove("version");
        for key in &locked {
            remove_key(&mut mine, key);
        }
        let mut file = toml::Table::new();
        file.insert(
            "version".to_owned(),
            toml::Value::Integer(i64::from(SETTINGS_VERSION)),
        );
        file.extend(mine);
        let text = toml::to_string_pretty(&file).map_err(|e| io(std::io::Error::other(e)))?;
        write_file(path, &text)
    }
}

/// A settings file as a table; `None` when there is no file. A syntax error says the line.
pub(super) fn read_table(path: &Path) -> Result<Option<toml::Table>, SettingsError> {
    let text = match super::read_settings_text(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SettingsError::Io {
                action: "read",
                source,
                path: path.to_path_buf(),
            });
        }
    };
    text.parse::<toml::Table>()
        .map(Some)
        .map_err(|e| SettingsError::Invalid {
            reason: located(&text, &e),
            path: path.to_path_buf(),
        })
}

/// A parser's message with the line it points at.
pub(super) fn located(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim();
    match e.span() {
        Some(span) => {
            let at = span.start.min(text.len());
            let line = text.get(..at).map_or(1, |t| t.matches('\n').count() + 1);
            format!("line {line}: {message}")
        }
        None => message.to_owned(),
    }
}

/// True for a value that says nothing: empty text or an empty list.
fn says_nothing(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => s.trim().is_empty(),
        toml::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Lays `over` on `base`: tables merge key by key, other values replace, values that say
/// nothing leave `base` as it is.
fn merge_over(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_over(b, o),
            (Some(_), v) if says_nothing(v) => {}
            (_, v) => {
                base.insert(key.clone(), v.clone());
            }
        }
    }
}

/// Collects the keys `admin` sets that `user` does not (or sets to nothing).
fn admin_keys(admin: &toml::Table, user: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in admin {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (value, user.get(key)) {
            (toml::Value::Table(a), Some(toml::Value::Table(u))) => admin_keys(a, u, &path, out),
            (toml::Value::Table(a), _) => admin_keys(a, &toml::Table::new(), &path, out),
            (_, Some(u)) if !says_nothing(u) => {}
            _ => out.push(path),
        }
    }
}

/// Removes from `mine` what equals `base` (tables left empty go too).
fn strip_equal(mine: &mut toml::Table, base: &toml::Table) {
    mine.retain(|key, value| match (value, base.get(key)) {
        (toml::Value::Table(m), Some(toml::Value::Table(b))) => {
            strip_equal(m, b);
            !m.is_empty()
        }
        (v, Some(b)) => v != b,
        (_, None) => true,
    });
}
