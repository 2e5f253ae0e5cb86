//! "Start when I log in": the platform's own entry for starting pyrus-phone with the
//! session — an XDG autostart file on Linux, the per-user Run key on Windows, a LaunchAgent
//! on macOS — written when the setting is on and removed when it is off. A start from it
//! passes `--minimized`.

use std::path::{Path, PathBuf};

/// The argument an entry starts the app with.
pub const MINIMIZED_ARG: &str = "--minimized";

/// The entry could not be written or removed: what, and the system's words.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {place}: {source}")]
pub struct AutostartError {
    /// "write" or "remove".
    action: &'static str,
    /// The entry's file, or the Run key.
    place: String,
    /// What the system said.
    source: std::io::Error,
}

/// Where the entry lives and what starts the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autostart {
    /// The folder of the entry (Linux: `~/.config/autostart`; macOS: `~/Library/LaunchAgents`;
    /// unused on Windows, whose entry is in the registry).
    pub dir: PathBuf,
    /// The program to start.
    pub program: PathBuf,
}

impl Autostart {
    /// The user's own place for the entry, for `program`.
    pub fn for_user(program: PathBuf) -> Option<Self> {
        let base = directories::BaseDirs::new()?;
        #[cfg(target_os = "macos")]
        let dir = base.home_dir().join("Library").join("LaunchAgents");
        #[cfg(not(target_os = "macos"))]
        let dir = base.config_dir().join("autostart");
        Some(Self { dir, program })
    }

    /// Writes the entry (`on`) or removes it; nothing to do is not an error.
    pub fn apply(&self, on: bool) -> Result<(), AutostartError> {
        if on { self.write() } else { self.remove() }
    }

    /// The entry's file (Linux and macOS).
    pub fn file(&self) -> PathBuf {
        #[cfg(target_os = "macos")]
        let name = "com.pyrus.pyrus-phone.plist";
        #[cfg(not(target_os = "macos"))]
        let name = "pyrus-phone.desktop";
        self.dir.join(name)
    }

    #[cfg(not(windows))]
    fn write(&self) -> Result<(), AutostartError> {
        let text = entry_text(&self.program);
        write_atomically(&self.file(), &text).map_err(|source| AutostartError {
            action: "write",
            place: self.file().display().to_string(),
            source,
        })
    }

    #[cfg(not(windows))]
    fn remove(&self) -> Result<(), AutostartError> {
        match std::fs::remove_file(self.file()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AutostartError {
                action: "remove",
                place: self.file().display().to_string(),
                source,
            }),
        }
    }

    #[cfg(windows)]
    fn write(&self) -> Result<(), AutostartError> {
        let value = format!("\"{}\" {MINIMIZED_ARG}", self.program.display());
        run_key("write")?
            .set_value("pyrus-phone", &value)
            .map_err(|source| AutostartError {
                action: "write",
                place: RUN_KEY.to_owned(),
                source,
            })
    }

    #[cfg(windows)]
    fn remove(&self) -> Result<(), AutostartError> {
        match run_key("remove")?.delete_value("pyrus-phone") {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AutostartError {
                action: "remove",
                place: RUN_KEY.to_owned(),
                source,
            }),
        }
    }
}

/// The per-user Run key, as the errors name it.
#[cfg(windows)]
const RUN_KEY: &str = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run";

/// `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`, opened to `action`.
#[cfg(windows)]
fn run_key(action: &'static str) -> Result<winreg::RegKey, AutostartError> {
    winreg::RegKey::predef(winreg::enums::HKEY_CURRENT_USER)
        .create_subkey(r"Software\Microsoft\Windows\CurrentVersion\Run")
        .map(|(key, _)| key)
        .map_err(|source| AutostartError {
            action,
            place: RUN_KEY.to_owned(),
            source,
        })
}

/// The entry's text: an XDG desktop entry, or a launchd property list.
#[cfg(not(windows))]
fn entry_text(program: &Path) -> String {
    #[cfg(target_os = "macos")]
    {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
             \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\">\n<dict>\n\
             \t<key>Label</key><string>com.pyrus.pyrus-phone</string>\n\
             \t<key>ProgramArguments</key>\n\t<array>\n\
             \t\t<string>{}</string>\n\t\t<string>{MINIMIZED_ARG}</string>\n\t</array>\n\
             \t<key>RunAtLoad</key><true/>\n</dict>\n</plist>\n",
            xml_escape(&program.display().to_string())
        )
    }
    #[cfg(not(target_os = "macos"))]
    {
        format!(
            "[Desktop Entry]\nType=Application\nName=pyrus-phone\n\
             Comment=Registers calls in Pyrus\nExec={} {MINIMIZED_ARG}\nIcon=pyrus-phone\n\
             Terminal=false\nX-GNOME-Autostart-enabled=true\n",
            exec_quote(&program.display().to_string())
        )
    }
}

/// Quotes a program path for a desktop entry's `Exec` key when it needs it.
#[cfg(all(not(windows), not(target_os = "macos")))]
fn exec_quote(path: &str) -> String {
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        return path.to_owned();
    }
    let mut out = String::from("\"");
    for c in path.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(target_os = "macos")]
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(not(windows))]
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(all(test, not(windows), not(target_os = "macos")))]
mod tests {
    use super::{Autostart, exec_quote};

    #[test]
    fn the_entry_is_written_and_removed_and_quotes_its_program() {
        let dir = tempfile::tempdir().unwrap();
        let entry = Autostart {
            dir: dir.path().join("autostart"),
            program: "/opt/pyrus phone/pyrus-phone".into(),
        };
        entry.apply(true).unwrap();
        let text = std::fs::read_to_string(entry.file()).unwrap();
        assert!(
            text.contains("Exec=\"/opt/pyrus phone/pyrus-phone\" --minimized"),
            "{text}"
        );
        entry.apply(false).unwrap();
        assert!(!entry.file().exists());
        entry.apply(false).unwrap();
        assert_eq!(exec_quote("/usr/bin/pyrus-phone"), "/usr/bin/pyrus-phone");
    }
}
