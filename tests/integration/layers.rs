//! The layers ARCHITECTURE.md draws, checked on the source: which of our modules each module
//! may use (every `use` read whole — groups, nested groups, `super::` climbing out of a
//! module — and every `crate::` path in code), which outside crates stay in one place, and
//! that every file starts with a `//!` doc. Comments may name anything; code may not. The
//! check is proven to fail on each kind of violation by injecting one into a copy of `src/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Which of our modules each module may use (`main.rs`, `lib.rs`, `logging` and `runtime`
/// sit above or beside them all and may use anything).
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("pyrus", &["domain"]),
    ("sandbox", &["domain"]),
    ("outbox", &["domain", "platform"]),
    ("sources", &["domain"]),
    ("settings", &["domain", "pyrus", "platform"]),
    ("platform", &["domain"]),
    ("bus", &["domain", "settings"]),
    (
        "service",
        &[
            "domain", "bus", "pyrus", "outbox", "settings", "platform", "sources",
        ],
    ),
    ("profile", &["domain", "settings", "platform", "sandbox"]),
    (
        "instance",
        &[
            "domain", "bus", "pyrus", "outbox", "settings", "platform", "sources", "service",
            "sandbox", "profile",
        ],
    ),
    ("ui", &["domain", "bus", "settings"]),
    (
        "app",
        &["domain", "bus", "settings", "ui", "service", "platform"],
    ),
    (
        "cli",
        &[
            "domain", "bus", "pyrus", "outbox", "settings", "platform", "sources", "service",
            "sandbox", "profile", "instance",
        ],
    ),
];

/// Outside crates and risky words that may appear only under some paths (relative to
/// `src/`, matched as prefixes): pattern words, why, where.
const ONLY_IN: &[(&[&str], &str, &[&str])] = &[
    (
        &[
            "egui::",
            "eframe::",
            "egui_file::",
            "rfd::",
            "winit::",
            "use egui",
            "use eframe",
            "use rfd",
            "use winit",
            "use egui_file",
        ],
        "egui, eframe, egui_file, rfd and winit only in ui/, app/ and main.rs",
        &["ui/", "app/", "main.rs"],
    ),
    (&["reqwest"], "reqwest only in pyrus/", &["pyrus/"]),
    (
        &["keyring::", "keyring_core", "zbus_secret_service"],
        "the keyring only in settings/credentials.rs",
        &["settings/credentials.rs"],
    ),
    (
        &["rusqlite"],
        "SQLite only in outbox/store/",
        &["outbox/store/"],
    ),
    (
        &["axum"],
        "axum only in sandbox/ and sources/",
        &["sandbox/", "sources/"],
    ),
    (
        &["unsafe ", "unsafe{", "libloading"],
        "unsafe code and dynamic loading only in platform/gl_warmup.rs, platform/console.rs and platform/memory.rs",
        &[
            "platform/gl_warmup.rs",
            "platform/console.rs",
            "platform/memory.rs",
        ],
    ),
    (
        &["tokio::spawn", "runtime.spawn", "task::spawn"],
        "tasks are spawned only in service/, outbox/, sources/, sandbox/, instance.rs and main.rs",
        &[
            "service/",
            "outbox/",
            "sources/",
            "sandbox/",
            "instance.rs",
            "main.rs",
        ],
    ),
];

/// Words a module must not use at all: module, words, why.
const NEVER_IN: &[(&str, &[&str], &str)] = &[
    (
        "domain",
        &["std::fs", "std::net", "tokio"],
        "domain does no I/O and no async",
    ),
    (
        "ui",
        &["std::fs", "std::net", "Mutex", "settings::credentials"],
        "ui is pure: no I/O, no locks, no keyring (settings types only)",
    ),
    (
        "instance",
        &["egui", "eframe"],
        "the instance builder knows nothing of the window",
    ),
];

/// What the check found wrong, one line each.
fn check(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        let rel = file
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.starts_with("//!") {
            found.push(format!("{rel}: no //! module doc at the top"));
        }
        let code = strip_comments(&text);
        let module = top_module(&rel);
        let ours = top_modules(src);
        if let Some(allowed) = MAY_USE.iter().find(|(m, _)| Some(*m) == module.as_deref()) {
            for used in used_modules(&rel, &code)
                .into_iter()
                .filter(|m| ours.contains(m))
            {
                if Some(used.as_str()) != module.as_deref() && !allowed.1.contains(&used.as_str()) {
                    found.push(format!("{rel}: {} may not use {used}", allowed.0));
                }
            }
        }
        for (words, why, places) in ONLY_IN {
            if places.iter().any(|p| rel.starts_with(p)) {
                continue;
            }
            if let Some(word) = words.iter().find(|w| contains_word(&code, w)) {
                found.push(format!("{rel}: {why} (`{word}`)"));
            }
        }
        for (m, words, why) in NEVER_IN {
            if module.as_deref() == Some(*m)
                && let Some(word) = words.iter().find(|w| contains_word(&code, w))
            {
                found.push(format!("{rel}: {why} (`{word}`)"));
            }
        }
    }
    found
}

/// The crate's top modules: the folders and files right under `src/`.
fn top_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let name = name.strip_suffix(".rs").map_or(name.clone(), str::to_owned);
            (!matches!(name.as_str(), "main" | "lib" | "build")).then_some(name)
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top module a file belongs to (`service/heard.rs` → `service`, `instance.rs` →
/// `instance`); none for the crate root files.
fn top_module(rel: &str) -> Option<String> {
    let first = rel.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "main" | "lib" | "build")).then(|| name.to_owned())
}

/// The module path of a file (`service/heard.rs` → `[service, heard]`, `outbox/mod.rs` →
/// `[outbox]`).
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "main" || p == "lib")
    {
        parts.pop();
    }
    parts
}

/// Source with comments (line and block, doc comments too) and string contents blanked, so
/// that only code is searched.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                '\n' => out.push('\n'),
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    if c == '\n' {
                        out.push('\n');
                    }
                    last = c;
                }
            }
            ('"', _) => {
                in_str = true;
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    out
}

/// `word` in `code`, not as part of a longer identifier.
fn contains_word(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(ident)
            && (!word.ends_with(|c: char| ident(c)) || !after.is_some_and(ident))
    })
}

/// Every top module of ours the code of a file reaches: through `use` items (groups
/// expanded, `self`/`super` resolved from the file's place and the inline modules around
/// the item) and through `crate::` paths.
fn used_modules(rel: &str, code: &str) -> BTreeSet<String> {
    let here = module_path(rel);
    let mut used = BTreeSet::new();
    for (at, path) in use_paths(code) {
        let mut place = here.clone();
        place.extend((0..inline_modules_at(code, at)).map(|_| "{inline}".to_owned()));
        if let Some(top) = resolve(&place, &path) {
            used.insert(top);
        }
    }
    for (at, _) in code.match_indices("crate::") {
        if code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.insert(name);
        }
    }
    used
}

/// How many inline modules (`mod name { … }`) enclose position `at` of `code`.
fn inline_modules_at(code: &str, at: usize) -> usize {
    let (mut depth, mut opened) = (0_usize, Vec::new());
    let mut pending_mod = false;
    let mut word = String::new();
    for (i, c) in code.char_indices() {
        if i >= at {
            break;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if word == "mod" {
            pending_mod = true;
        }
        word.clear();
        match c {
            '{' => {
                depth += 1;
                if pending_mod {
                    opened.push(depth);
                }
                pending_mod = false;
            }
            '}' => {
                if opened.last() == Some(&depth) {
                    opened.pop();
                }
                depth = depth.saturating_sub(1);
            }
            ';' => pending_mod = false,
            _ => {}
        }
    }
    opened.len()
}

/// The paths a file's `use` items name, each with where its item starts, groups expanded
/// (`a::{b, c::{d}}` → `a::b`, `a::c::d`).
fn use_paths(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = find_use(&code[from..]).map(|at| at + from) {
        let item = &code[at + "use ".len()..];
        let Some(end) = item.find(';') else { break };
        let tree: String = item[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let mut paths = Vec::new();
        expand("", &tree, &mut paths);
        out.extend(paths.into_iter().map(|p| (at, p)));
        from = at + "use ".len() + end;
    }
    out
}

/// Where the next `use` item starts (after `pub`, `pub(crate)` and the like, or at a line
/// start).
fn find_use(code: &str) -> Option<usize> {
    code.match_indices("use ").map(|(at, _)| at).find(|&at| {
        let before = code[..at].trim_end_matches([' ', '\t']);
        before.is_empty() || before.ends_with(['\n', ';', '{', '}', ')']) || before.ends_with("pub")
    })
}

/// Expands one use tree under `prefix` into whole paths.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_owned()
        } else {
            format!("{p}::{s}")
        }
    };
    match tree.find('{') {
        None => {
            let path = tree.split(" as ").next().unwrap_or(tree);
            out.push(join(prefix, path.trim_end_matches("::")));
        }
        Some(open) => {
            let head = join(prefix, tree[..open].trim_end_matches("::"));
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            for part in split_top(inner) {
                if !part.is_empty() {
                    expand(&head, part, out);
                }
            }
        }
    }
}

/// Splits a group's inside at its top-level commas.
fn split_top(inner: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// The top module of ours a use path reaches from the module at `here`, if any.
fn resolve(here: &[String], path: &str) -> Option<String> {
    let mut segments = path.split("::").peekable();
    match *segments.peek()? {
        "crate" => {
            segments.next();
            segments.next().map(str::to_owned)
        }
        "super" | "self" => {
            let mut at: Vec<String> = here.to_vec();
            while let Some(&s) = segments.peek() {
                match s {
                    "super" => {
                        at.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                segments.next();
            }
            match at.first() {
                Some(top) => Some(top.clone()),
                None => segments.next().map(str::to_owned),
            }
        }
        _ => None,
    }
}

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A copy of `src/` to break on purpose.
fn copy_of_src() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&source_dir(), dir.path());
    dir
}

/// Writes a file of the copy.
fn put(path: &Path, text: &str) {
    std::io::Write::write_all(&mut std::fs::File::create(path).unwrap(), text.as_bytes()).unwrap();
}

/// Appends `code` to a file of the copy and returns what the check says of it.
fn with_injected(file: &str, code: &str) -> Vec<String> {
    let copy = copy_of_src();
    let path = copy.path().join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push('\n');
    text.push_str(code);
    put(&path, &text);
    check(copy.path())
}

#[test]
fn the_source_keeps_its_layers() {
    let found = check(&source_dir());
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

#[test]
fn a_grouped_import_that_crosses_a_layer_is_caught() {
    let found = with_injected(
        "ui/theme.rs",
        "#[allow(unused_imports)]\nuse crate::{\n    outbox::Outbox,\n    service::{Engine, ServiceHandle},\n};\n",
    );
    assert!(
        found
            .iter()
            .any(|f| f == "ui/theme.rs: ui may not use outbox"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f == "ui/theme.rs: ui may not use service"),
        "{found:?}"
    );
}

#[test]
fn the_composition_root_reaching_the_cli_is_caught() {
    let found = with_injected("instance.rs", "use crate::cli::Failure;\n");
    assert_eq!(found, ["instance.rs: instance may not use cli"]);
    let found = with_injected(
        "instance.rs",
        "fn front() -> u8 { crate::cli::Failure::usage(\"x\").code }\n",
    );
    assert_eq!(found, ["instance.rs: instance may not use cli"]);
}

#[test]
fn platform_reaching_the_settings_is_caught_even_through_super() {
    let found = with_injected("platform/paths.rs", "use crate::settings::Settings;\n");
    assert_eq!(found, ["platform/paths.rs: platform may not use settings"]);
    let found = with_injected(
        "platform/paths.rs",
        "use super::super::settings::Settings;\n",
    );
    assert_eq!(found, ["platform/paths.rs: platform may not use settings"]);
}

#[test]
fn outside_crates_and_docs_stay_where_they_belong() {
    let found = with_injected("ui/theme.rs", "fn f(_: reqwest::Client) {}\n");
    assert_eq!(found, ["ui/theme.rs: reqwest only in pyrus/ (`reqwest`)"]);
    let found = with_injected(
        "domain/units.rs",
        "fn f() { let _ = std::fs::read(\"x\"); }\n",
    );
    assert_eq!(
        found,
        ["domain/units.rs: domain does no I/O and no async (`std::fs`)"]
    );
    let copy = copy_of_src();
    put(&copy.path().join("service/new.rs"), "fn f() {}\n");
    assert_eq!(
        check(copy.path()),
        ["service/new.rs: no //! module doc at the top"]
    );
}

#[test]
fn comments_and_strings_may_name_anything() {
    let found = with_injected(
        "ui/theme.rs",
        "// use crate::outbox::Outbox;\n/* crate::service */\nconst WORDS: &str = \"crate::cli and reqwest\";\n",
    );
    assert!(found.is_empty(), "{found:?}");
}
