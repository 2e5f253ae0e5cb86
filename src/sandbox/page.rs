//! The task page a browser opens at `/t#id{task}`: every task, with the one named in the
//! fragment shown (CSS `:target`), its comments, mappings and playable recordings.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::state::{StoredFile, TaskSnapshot};

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(tasks: &[TaskSnapshot], files: &HashMap<String, StoredFile>) -> String {
    let mut html = String::from(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>Pyrus sandbox — tasks</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:60em;color:#222}",
        "section.task{display:none;border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}",
        "section.task:target{display:block}",
        "nav a{margin-right:.8em}",
        ".comment{border-top:1px solid #eee;padding:.5em 0}",
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}",
        ".badge{background:#fde68a;padding:2px 8px;border-radius:4px;font-size:.8em}",
        "</style></head><body>",
        "<h1>Pyrus sandbox <span class=\"badge\">demo</span></h1>",
    ));
    if tasks.is_empty() {
        html.push_str("<p>No tasks yet. Register a call with pyrus-phone.</p>");
    } else {
        html.push_str("<nav>Tasks: ");
        for task in tasks {
            write!(html, "<a href=\"#id{0}\">#{0}</a>", task.id).ok();
        }
        html.push_str(
            "</nav><p>Pick a task above; a link from pyrus-phone opens one directly.</p>",
        );
    }
    for task in tasks {
        write!(
            html,
            "<section class=\"task\" id=\"id{id}\"><h2>Task #{id}</h2>\
             <p>Call from <b>{from}</b> to <b>{to}</b></p>",
            id = task.id,
            from = esc(&task.from_number),
            to = esc(&task.to_number),
        )
        .ok();
        if let Some(user) = &task.responsible {
            write!(html, "<p>Responsible: user {}</p>", esc(user)).ok();
        }
        if !task.external_ids.is_empty() {
            let ids: Vec<String> = task.external_ids.iter().map(|i| esc(i)).collect();
            write!(html, "<p>Call ids: {}</p>", ids.join(", ")).ok();
        }
        for comment in &task.comments {
            write!(html, "<div class=\"comment\"><p>{}</p>", esc(&comment.text)).ok();
            if !comment.mappings.is_empty() {
                html.push_str("<table><tr><th>Field</th><th>Value</th></tr>");
                for (code, value) in &comment.mappings {
                    write!(
                        html,
                        "<tr><td>{}</td><td>{}</td></tr>",
                        esc(code),
                        esc(value)
                    )
                    .ok();
                }
                html.push_str("</table>");
            }
            if let Some((guid, name)) = &comment.recording {
                let playable = files.contains_key(guid);
                write!(
                    html,
                    "<p>Recording {name}{gone}</p><audio controls preload=\"none\" src=\"/sandbox/files/{guid}\"></audio>",
                    name = esc(name),
                    guid = esc(guid),
                    gone = if playable { "" } else { " (file gone)" },
                )
                .ok();
            }
            html.push_str("</div>");
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::render;
    use crate::sandbox::state::{CommentSnapshot, TaskSnapshot};

    #[test]
    fn escapes_and_shows_recordings() {
        let task = TaskSnapshot {
            id: 7,
            from_number: "<script>".into(),
            to_number: "+7495".into(),
            external_ids: vec!["c1".into()],
            responsible: None,
            modified_ms: 0,
            comments: vec![CommentSnapshot {
                text: "Call".into(),
                mappings: vec![("Subject".into(), "A&B".into())],
                recording: Some(("g-1".into(), "rec.wav".into())),
            }],
        };
        let html = render(&[task], &HashMap::new());
        assert!(html.contains("id=\"id7\""));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("A&amp;B"));
        assert!(html.contains("<audio controls preload=\"none\" src=\"/sandbox/files/g-1\">"));
    }
}
