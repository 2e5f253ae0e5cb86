//! Twinkle on this computer: its profiles in `~/.twinkle/`, their call scripts set up to run
//! `pyrus-phone event --twinkle` (a backup of each profile kept beside it first) or given
//! back, and where its call history is. The text of a profile is `domain::twinkle_profile`'s;
//! this module reads and writes the files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::domain::twinkle_profile::{self, KeyChange};
use crate::platform::files::read_text_bounded;

/// The largest profile read (Twinkle's are a few KiB).
const PROFILE_LIMIT: u64 = 1024 * 1024;

/// What a backup of a profile is called beside it: `tw.cfg` → `tw.cfg.pyrus-phone-backup`.
const BACKUP_SUFFIX: &str = ".pyrus-phone-backup";

/// Twinkle's folder for a home: `~/.twinkle`.
pub fn twinkle_dir(home: &Path) -> PathBuf {
    home.join(".twinkle")
}

/// Twinkle's folder for this user, when the home is known.
pub fn user_twinkle_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| twinkle_dir(b.home_dir()))
}

/// One profile and how many of its call scripts run pyrus-phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinkleProfile {
    /// Its name (the file name without `.cfg`).
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// How many of the eight scripts run pyrus-phone.
    pub ours: usize,
}

/// What happened to one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileReport {
    /// The profile.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// Each script key, and what became of it (set-up only).
    pub changes: Vec<(&'static str, KeyChange)>,
    /// Keys given back (undo only).
    pub given_back: usize,
    /// Where the profile as it was is kept (set-up only).
    pub backup: Option<PathBuf>,
}

/// Why Twinkle could not be set up or undone.
#[derive(Debug, thiserror::Error)]
pub enum TwinkleSetupError {
    /// No `~/.twinkle` or no profile in it.
    #[error(
        "no Twinkle profile in {0}: start Twinkle once and create a profile with its profile wizard, then run this again (or name Twinkle's folder with --dir)"
    )]
    NoProfile(PathBuf),
    /// `--profile` names none of them.
    #[error("Twinkle has no profile '{name}' in {dir}; its profiles: {have}")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The folder.
        dir: PathBuf,
        /// The names there.
        have: String,
    },
    /// The binary's path has a space: Twinkle splits a script at spaces, with no quoting.
    #[error(
        "Twinkle runs a call script split at spaces, and this program's path has one ({0}): install pyrus-phone (or link it) at a path without spaces and run this again"
    )]
    SpaceInPath(PathBuf),
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// read or write.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The profiles in `dir`, by name.
pub fn profiles(dir: &Path) -> Vec<TwinkleProfile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // This program's own line counts whatever its file is called.
    let this = std::env::current_exe()
        .ok()
        .and_then(|exe| script_command(&exe).ok());
    let mut found: Vec<TwinkleProfile> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_name()?.to_str()?.strip_suffix(".cfg")?.to_owned();
            let text = read_text_bounded(&path, PROFILE_LIMIT).ok()?;
            Some(TwinkleProfile {
                name,
                ours: twinkle_profile::ours_count(&text, this.as_deref()),
                path,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The profiles an action is for: the one named, else all.
fn chosen(dir: &Path, name: Option<&str>) -> Result<Vec<TwinkleProfile>, TwinkleSetupError> {
    let all = profiles(dir);
    if all.is_empty() {
        return Err(TwinkleSetupError::NoProfile(dir.to_path_buf()));
    }
    match name {
        None => Ok(all),
        Some(name) => {
            let name = name.trim().trim_end_matches(".cfg");
            let have = all
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let one: Vec<TwinkleProfile> = all.iter().filter(|p| p.name == name).cloned().collect();
            if one.is_empty() {
                return Err(TwinkleSetupError::UnknownProfile {
                    name: name.to_owned(),
                    dir: dir.to_path_buf(),
                    have,
                });
            }
            Ok(one)
        }
    }
}

/// The script line for this binary: `/usr/bin/pyrus-phone event --twinkle`.
pub fn script_command(program: &Path) -> Result<String, TwinkleSetupError> {
    let text = program.to_string_lossy();
    // A binary replaced by an upgrade while it runs: its path is still the one to run.
    let text = text.strip_suffix(" (deleted)").unwrap_or(&text);
    if text.chars().any(char::is_whitespace) {
        return Err(TwinkleSetupError::SpaceInPath(program.to_path_buf()));
    }
    Ok(format!("{text} {}", twinkle_profile::OUR_ARGS))
}

/// Points the call scripts of the profile named (or of every profile) at `program`, keeping
/// each profile as it was in a backup beside it (the first set-up's backup is kept: it is
/// what `undo` gives back).
pub fn set_up(
    dir: &Path,
    profile: Option<&str>,
    program: &Path,
    force: bool,
) -> Result<Vec<ProfileReport>, TwinkleSetupError> {
    let command = script_command(program)?;
    let mut reports = Vec::new();
    for p in chosen(dir, profile)? {
        let text = read(&p.path)?;
        let (new, changes) = twinkle_profile::set_up(&text, &command, force);
        let backup = backup_path(&p.path);
        if twinkle_profile::changes_anything(&changes) {
            if !backup.exists() {
                write(&backup, &text)?;
            }
            write(&p.path, &new)?;
        }
        reports.push(ProfileReport {
            name: p.name,
            path: p.path,
            changes,
            given_back: 0,
            backup: backup.exists().then_some(backup),
        });
    }
    Ok(reports)
}

/// Gives each profile's call scripts back what they held before set-up (from its backup;
/// empty without one), keeping every other line as it is now, and removes the backup.
pub fn undo(dir: &Path, profile: Option<&str>) -> Result<Vec<ProfileReport>, TwinkleSetupError> {
    let mut reports = Vec::new();
    for p in chosen(dir, profile)? {
        let text = read(&p.path)?;
        let backup = backup_path(&p.path);
        let before = backup.exists().then(|| read(&backup)).transpose()?;
        let this = std::env::current_exe()
            .ok()
            .and_then(|exe| script_command(&exe).ok());
        let (new, given_back) = twinkle_profile::undo(&text, before.as_deref(), this.as_deref());
        if new != text {
            write(&p.path, &new)?;
        }
        // The backup goes only once nothing of ours is left to give back from it.
        if backup.exists() && twinkle_profile::ours_count(&new, this.as_deref()) == 0 {
            std::fs::remove_file(&backup).map_err(|source| TwinkleSetupError::Io {
                action: "remove",
                path: backup.clone(),
                source,
            })?;
        }
        reports.push(ProfileReport {
            name: p.name,
            path: p.path,
            changes: Vec::new(),
            given_back,
            backup: None,
        });
    }
    Ok(reports)
}

fn backup_path(profile: &Path) -> PathBuf {
    let mut name = profile.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

fn read(path: &Path) -> Result<String, TwinkleSetupError> {
    read_text_bounded(path, PROFILE_LIMIT).map_err(|source| TwinkleSetupError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a whole file at once (a temporary file renamed over it), keeping its mode; a link
/// (a dotfile manager's) stays a link, its target written.
fn write(path: &Path, text: &str) -> Result<(), TwinkleSetupError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let path = target.as_path();
    let io = |source| TwinkleSetupError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{profiles, set_up, undo};
    use crate::domain::twinkle_profile::{KeyChange, value_of};

    #[test]
    fn set_up_keeps_a_backup_and_undo_gives_each_script_back() {
        let home = tempfile::tempdir().unwrap();
        let dir = super::twinkle_dir(home.path());
        std::fs::create_dir_all(&dir).unwrap();
        let before = "user_name=2000\nscript_remote_release=/usr/local/bin/crm-hangup\n";
        super::write(&dir.join("tw.cfg"), before).unwrap();
        super::write(&dir.join("tw.cfg~"), "not a profile").unwrap();
        let program = std::path::Path::new("/usr/bin/pyrus-phone");
        let reports = set_up(&dir, None, program, false).unwrap();
        assert_eq!(reports.len(), 1);
        assert!(reports[0].changes.iter().any(|(k, c)| *k == "script_remote_release"
            && matches!(c, KeyChange::KeptOther(_))));
        assert_eq!(profiles(&dir)[0].ours, 7);
        assert_eq!(
            std::fs::read_to_string(dir.join("tw.cfg.pyrus-phone-backup")).unwrap(),
            before
        );
        // Forced, then a second set-up: the backup is still the profile as it first was.
        set_up(&dir, Some("tw"), program, true).unwrap();
        assert_eq!(profiles(&dir)[0].ours, 8);
        let reports = undo(&dir, None).unwrap();
        assert_eq!(reports[0].given_back, 8);
        let after = std::fs::read_to_string(dir.join("tw.cfg")).unwrap();
        assert_eq!(
            value_of(&after, "script_remote_release"),
            Some("/usr/local/bin/crm-hangup")
        );
        assert!(!dir.join("tw.cfg.pyrus-phone-backup").exists());
        assert!(set_up(&dir, Some("nope"), program, false).is_err());
        let spaced = std::path::Path::new("/opt/my apps/pyrus-phone");
        assert!(set_up(&dir, None, spaced, false).is_err());
    }
}
