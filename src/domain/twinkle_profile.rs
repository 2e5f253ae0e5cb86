//! A Twinkle profile's call scripts, set up and undone as text: the eight `script_*` keys
//! pointed at `pyrus-phone event --twinkle`, every other line kept as it was; a script some
//! other program owns kept (and said) unless forced; undone by putting back what each of
//! our keys held before. Pure: reading and writing the file is the caller's.

/// The eight script keys of a profile, in the order Twinkle's settings list them.
pub const SCRIPT_KEYS: [&str; 8] = [
    "script_incoming_call",
    "script_in_call_answered",
    "script_in_call_failed",
    "script_outgoing_call",
    "script_out_call_answered",
    "script_out_call_failed",
    "script_local_release",
    "script_remote_release",
];

/// The words after the binary that make a script ours.
pub const OUR_ARGS: &str = "event --twinkle";

/// What became of one script key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// It now runs pyrus-phone.
    Set,
    /// It ran pyrus-phone already (from this path).
    Unchanged,
    /// Another program's script, kept (`--force` replaces it).
    KeptOther(String),
    /// Another program's script, replaced because forced.
    Replaced(String),
}

/// True when a script value is pyrus-phone's own (`…/pyrus-phone event --twinkle`, from any
/// path: a moved binary is still ours).
pub fn is_ours(value: &str) -> bool {
    let mut words = value.split_whitespace();
    let program = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    let name = program.rsplit('/').next().unwrap_or_default();
    name.starts_with("pyrus-phone") && rest.join(" ") == OUR_ARGS
}

/// The value of `key` in a profile's text, if the key is there: its last line's, the one
/// Twinkle reads last and keeps.
pub fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().rev().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// How many of the eight keys run pyrus-phone (or `command`, this very program's script
/// line, whatever its file is called).
pub fn ours_count(text: &str, command: Option<&str>) -> usize {
    SCRIPT_KEYS
        .iter()
        .filter(|k| value_of(text, k).is_some_and(|v| is_ours(v) || Some(v) == command))
        .count()
}

/// The profile with the eight keys running `command` (`/usr/bin/pyrus-phone event
/// --twinkle`), and what became of each key. A key another program owns (its value in force:
/// the last of its lines) is kept unless `force`; each key is left on one line, where it
/// first was; a missing key is added at the end.
pub fn set_up(text: &str, command: &str, force: bool) -> (String, Vec<(&'static str, KeyChange)>) {
    let changes: Vec<(&'static str, KeyChange)> = SCRIPT_KEYS
        .iter()
        .map(|&key| {
            let change = match value_of(text, key) {
                Some(value) if value == command => KeyChange::Unchanged,
                None | Some("") => KeyChange::Set,
                Some(value) if is_ours(value) => KeyChange::Set,
                Some(value) if force => KeyChange::Replaced(value.to_owned()),
                Some(value) => KeyChange::KeptOther(value.to_owned()),
            };
            (key, change)
        })
        .collect();
    let line_for = |key: &str| {
        let change = changes.iter().find(|(k, _)| *k == key).map(|(_, c)| c);
        match change {
            Some(KeyChange::KeptOther(value)) => format!("{key}={value}"),
            _ => format!("{key}={command}"),
        }
    };
    let mut written: Vec<&str> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let key = line.split_once('=').map(|(k, _)| k.trim());
        match key.and_then(|k| SCRIPT_KEYS.iter().find(|s| **s == k)) {
            Some(&key) if written.contains(&key) => {}
            Some(&key) => {
                lines.push(line_for(key));
                written.push(key);
            }
            None => lines.push(line.to_owned()),
        }
    }
    for key in SCRIPT_KEYS {
        if !written.contains(&key) {
            lines.push(line_for(key));
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    (out, changes)
}

/// True when set-up changes what Twinkle runs (not when every key ran what it will run).
pub fn changes_anything(changes: &[(&'static str, KeyChange)]) -> bool {
    changes
        .iter()
        .any(|(_, c)| matches!(c, KeyChange::Set | KeyChange::Replaced(_)))
}

/// The profile with each key that runs pyrus-phone (or `command`, this program's own line)
/// given back what `before` (the profile as it was before set-up) held — a key it did not
/// have goes; without `before`, each is emptied. Other lines are kept as they
/// are now. Returns the text and how many keys were given back.
pub fn undo(text: &str, before: Option<&str>, command: Option<&str>) -> (String, usize) {
    let ours_value = |v: &str| is_ours(v) || Some(v) == command;
    let mut given_back = 0;
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let ours = line.split_once('=').and_then(|(k, v)| {
            let key = SCRIPT_KEYS.iter().find(|s| **s == k.trim())?;
            ours_value(v.trim()).then_some(*key)
        });
        match ours {
            Some(key) => {
                given_back += 1;
                // A key the profile did not have before goes again.
                match before.and_then(|b| value_of(b, key)) {
                    Some(old) if !ours_value(old) => lines.push(format!("{key}={old}")),
                    Some(_) => lines.push(format!("{key}=")),
                    None if before.is_some() => {}
                    None => lines.push(format!("{key}=")),
                }
            }
            None => lines.push(line.to_owned()),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    (out, given_back)
}

#[cfg(test)]
mod tests {
    use super::{KeyChange, SCRIPT_KEYS, is_ours, ours_count, set_up, undo, value_of};

    const PROFILE: &str = "# USER\nuser_name=2000\nuser_domain=127.0.0.1\nscript_incoming_call=/usr/local/bin/notify-crm\nscript_in_call_answered=\nscript_local_release=/opt/old/pyrus-phone event --twinkle\n";
    const US: &str = "/usr/bin/pyrus-phone event --twinkle";

    #[test]
    fn set_up_points_every_key_at_us_keeps_the_rest_and_anothers_script() {
        let (text, changes) = set_up(PROFILE, US, false);
        assert!(text.starts_with("# USER\nuser_name=2000\nuser_domain=127.0.0.1\n"));
        assert_eq!(
            value_of(&text, "script_incoming_call"),
            Some("/usr/local/bin/notify-crm")
        );
        assert_eq!(ours_count(&text, None), 7);
        assert_eq!(changes.len(), 8);
        assert_eq!(
            changes[0],
            (
                "script_incoming_call",
                KeyChange::KeptOther("/usr/local/bin/notify-crm".into())
            )
        );
        for key in SCRIPT_KEYS.iter().skip(1) {
            assert_eq!(value_of(&text, key), Some(US), "{key}");
        }
        // Again: nothing new; forced: the other program's script goes too.
        let (again, changes) = set_up(&text, US, false);
        assert_eq!(again, text);
        assert!(!super::changes_anything(&changes));
        assert!(changes[1..].iter().all(|(_, c)| *c == KeyChange::Unchanged));
        let (forced, changes) = set_up(&text, US, true);
        assert_eq!(ours_count(&forced, None), 8);
        assert!(matches!(changes[0].1, KeyChange::Replaced(_)));
        // Undone: each key as it was before, the rest as it is now.
        let (undone, n) = undo(&forced.replace("2000", "2001"), Some(PROFILE), None);
        assert_eq!(n, 8);
        assert_eq!(ours_count(&undone, None), 0);
        assert_eq!(
            value_of(&undone, "script_incoming_call"),
            Some("/usr/local/bin/notify-crm")
        );
        assert_eq!(value_of(&undone, "script_local_release"), Some(""));
        assert_eq!(value_of(&undone, "user_name"), Some("2001"));
        assert_eq!(
            value_of(&undone, "script_in_call_failed"),
            None,
            "not there before"
        );
        // Set up by a binary called otherwise: its own line is known as ours.
        let odd = "/tmp/pp-bin event --twinkle";
        let (by_odd, _) = set_up(PROFILE, odd, false);
        assert_eq!(
            undo(&by_odd, Some(PROFILE), None).1,
            0,
            "not known without its line"
        );
        let (undone, n) = undo(&by_odd, Some(PROFILE), Some(odd));
        assert_eq!(n, 7);
        assert_eq!(ours_count(&undone, Some(odd)), 0);
    }

    #[test]
    fn the_line_twinkle_keeps_is_the_last_and_set_up_leaves_one() {
        let twice =
            "script_local_release=\r\nuser_name=2000\r\nscript_local_release=/opt/crm/hangup\r\n";
        assert_eq!(
            value_of(twice, "script_local_release"),
            Some("/opt/crm/hangup")
        );
        let (text, changes) = set_up(twice, US, false);
        assert!(matches!(changes[6].1, KeyChange::KeptOther(_)));
        assert_eq!(text.matches("script_local_release=").count(), 1);
        assert!(text.starts_with("script_local_release=/opt/crm/hangup\nuser_name=2000\n"));
    }

    #[test]
    fn only_pyrus_phones_own_event_script_is_ours() {
        assert!(is_ours(US));
        assert!(is_ours("/home/a/bin/pyrus-phone  event --twinkle"));
        assert!(!is_ours("/usr/bin/pyrus-phone event ring"));
        assert!(!is_ours("/usr/bin/notify event --twinkle"));
        assert!(!is_ours(""));
    }
}
