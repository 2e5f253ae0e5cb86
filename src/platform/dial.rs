//! Handing a number to a program that dials it: a dial command from the settings (`%s`
//! stands for the number; MicroSIP's, Twinkle's, any softphone's command line), MicroSIP
//! where it is installed (Windows), and which program is the desktop's `tel:` handler — so
//! a number is never handed to pyrus-phone itself.

use std::path::PathBuf;

/// A number could not be handed to a program that dials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// The dial command is not a command line (what is wrong with it).
    #[error("the dial command cannot be read: {0}")]
    BadCommand(String),
    /// The dial command could not be started.
    #[error("the dial command '{program}' could not be started: {why}")]
    NotStarted {
        /// The program named.
        program: String,
        /// What the system said.
        why: String,
    },
}

/// The desktop's handler for `tel:` links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelHandler {
    /// pyrus-phone itself: handing it a link only brings the number back here.
    Ours,
    /// Another program (its desktop entry).
    Other(String),
    /// No program handles `tel:` links.
    Nobody,
    /// This desktop cannot be asked (the link is handed over and the system decides).
    Unknown,
}

/// The words of `template` (a command line; double or single quotes keep spaces), with `%s`
/// replaced by `number`, or `number` added last when there is no `%s`.
pub fn command_words(template: &str, number: &str) -> Result<Vec<String>, DialError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in template.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(DialError::BadCommand("a quote is not closed".to_owned()));
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(DialError::BadCommand("it is empty".to_owned()));
    }
    let mut placed = false;
    for word in &mut words {
        if word.contains("%s") {
            *word = word.replace("%s", number);
            placed = true;
        }
    }
    if !placed {
        words.push(number.to_owned());
    }
    Ok(words)
}

/// Starts the dial command for `number` (no shell: the words as they are), and lets it run.
pub fn run_command(template: &str, number: &str) -> Result<(), DialError> {
    let words = command_words(template, number)?;
    let Some((program, args)) = words.split_first() else {
        return Err(DialError::BadCommand("it is empty".to_owned()));
    };
    let mut command = std::process::Command::new(program);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match command.spawn() {
        Ok(mut child) => {
            // Waited for on a thread of its own, so it leaves no zombie behind.
            let waiter = std::thread::Builder::new()
                .name("dial".into())
                .spawn(move || child.wait());
            if let Err(e) = waiter {
                tracing::warn!(error = %e, "cannot wait for the dial command");
            }
            Ok(())
        }
        Err(e) => Err(DialError::NotStarted {
            program: program.clone(),
            why: e.to_string(),
        }),
    }
}

/// MicroSIP's program, where it is installed for this user or the machine (Windows only):
/// a number on its command line dials it in the running MicroSIP.
pub fn microsip() -> Option<PathBuf> {
    #[cfg(windows)]
    {
        let candidates = [
            std::env::var_os("LOCALAPPDATA").map(|d| PathBuf::from(d).join("MicroSIP")),
            std::env::var_os("ProgramFiles").map(|d| PathBuf::from(d).join("MicroSIP")),
            std::env::var_os("ProgramFiles(x86)").map(|d| PathBuf::from(d).join("MicroSIP")),
        ];
        candidates
            .into_iter()
            .flatten()
            .map(|d| d.join("microsip.exe"))
            .find(|p| p.is_file())
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// Which program the desktop hands `tel:` links to (blocking; asks `xdg-mime`, bounded to
/// two seconds). Windows and macOS cannot be asked here: [`TelHandler::Unknown`].
pub fn tel_handler() -> TelHandler {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        use std::io::Read as _;
        let child = std::process::Command::new("xdg-mime")
            .args(["query", "default", "x-scheme-handler/tel"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            // Without xdg-utils nothing opens links on this desktop at all.
            return TelHandler::Nobody;
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => {
                    child.kill().ok();
                    child.wait().ok();
                    return TelHandler::Unknown;
                }
            }
        }
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            stdout.read_to_string(&mut out).ok();
        }
        handler_named(out.trim())
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        TelHandler::Unknown
    }
}

/// The handler a desktop entry's name stands for.
fn handler_named(entry: &str) -> TelHandler {
    if entry.is_empty() {
        TelHandler::Nobody
    } else if entry.starts_with("pyrus-phone") {
        TelHandler::Ours
    } else {
        TelHandler::Other(entry.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::{DialError, TelHandler, command_words, handler_named};

    #[test]
    fn a_dial_command_takes_the_number_where_it_says() {
        let words = |t: &str| command_words(t, "+79161112233");
        assert_eq!(
            words("twinkle --call %s").unwrap(),
            ["twinkle", "--call", "+79161112233"]
        );
        assert_eq!(
            words("\"C:\\Program Files\\MicroSIP\\microsip.exe\"").unwrap(),
            ["C:\\Program Files\\MicroSIP\\microsip.exe", "+79161112233"]
        );
        assert_eq!(
            words("softphone 'sip:%s@pbx.local'").unwrap(),
            ["softphone", "sip:+79161112233@pbx.local"]
        );
        assert!(matches!(words("dial \"x"), Err(DialError::BadCommand(_))));
        assert!(matches!(words("   "), Err(DialError::BadCommand(_))));
    }

    #[test]
    fn pyrus_phone_is_never_taken_for_a_dialler() {
        assert_eq!(handler_named("pyrus-phone.desktop"), TelHandler::Ours);
        assert_eq!(handler_named(""), TelHandler::Nobody);
        assert_eq!(
            handler_named("linphone.desktop"),
            TelHandler::Other("linphone.desktop".into())
        );
    }
}
