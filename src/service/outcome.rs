//! A call's outcome as Pyrus gets it by itself when the call ends: the values of the form
//! fields `[outcome]` names (sent with a second registration of the same call), or else a
//! short comment in the interface's language.

use crate::domain::{Direction, Mapping};
use crate::outbox::CallOutcome;
use crate::settings::OutcomeSettings;

/// The outcome as values of the fields `fields` names (unset codes are left out; so is the
/// answer time of a call nobody answered, and a value too long for a field). A value the
/// form cannot take is Pyrus's to refuse.
pub fn outcome_mappings(
    outcome: &CallOutcome,
    internal: Option<&str>,
    fields: &OutcomeSettings,
) -> Vec<Mapping> {
    let words = &fields.words;
    let outgoing = outcome.direction == Direction::Outgoing;
    let result = match (outcome.answered_ms, outgoing) {
        (Some(_), _) => &words.answered,
        (None, true) => &words.not_answered,
        (None, false) => &words.missed,
    };
    let direction = if outgoing {
        &words.outgoing
    } else {
        &words.incoming
    };
    let talk = outcome
        .answered_ms
        .map_or(0, |answered| (outcome.ended_ms - answered).max(0) / 1000);
    let values = [
        (&fields.result, Some(result.clone())),
        (&fields.direction, Some(direction.clone())),
        (&fields.started, iso(outcome.started_ms)),
        (&fields.answered, outcome.answered_ms.and_then(iso)),
        (&fields.ended, iso(outcome.ended_ms)),
        (&fields.talk_seconds, Some(talk.to_string())),
        (&fields.internal, internal.map(str::to_owned)),
    ];
    values
        .into_iter()
        .filter_map(|(code, value)| Mapping::new(code.as_deref()?, &value?).ok())
        .collect()
}

/// A Unix time in ms as ISO 8601 UTC to the second (`2026-12-03T14:10:00Z`).
fn iso(ms: i64) -> Option<String> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A call's outcome in words, times in this computer's local time: answered (when, how long
/// the talk was) or missed / not answered (how long it rang).
pub fn outcome_words(outcome: &CallOutcome, russian: bool) -> String {
    let clock = |ms: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let span = |from: i64, to: i64| {
        let secs = (to - from).max(0) / 1000;
        format!("{}:{:02}", secs / 60, secs % 60)
    };
    let outgoing = outcome.direction == Direction::Outgoing;
    let start = clock(outcome.started_ms);
    let end = clock(outcome.ended_ms);
    match (outcome.answered_ms, russian) {
        (Some(answered), false) => format!(
            "{} call answered at {}, ended at {}; talk {}.",
            if outgoing { "Outgoing" } else { "Incoming" },
            clock(answered),
            end,
            span(answered, outcome.ended_ms)
        ),
        (Some(answered), true) => format!(
            "{} звонок: ответ в {}, завершён в {}; разговор {}.",
            if outgoing {
                "Исходящий"
            } else {
                "Входящий"
            },
            clock(answered),
            end,
            span(answered, outcome.ended_ms)
        ),
        (None, false) if outgoing => format!(
            "Outgoing call not answered: dialled at {start}, {} until it ended.",
            span(outcome.started_ms, outcome.ended_ms)
        ),
        (None, false) => format!(
            "Missed call: rang at {start} for {}, not answered.",
            span(outcome.started_ms, outcome.ended_ms)
        ),
        (None, true) if outgoing => format!(
            "Исходящий звонок без ответа: набран в {start}, {} до завершения.",
            span(outcome.started_ms, outcome.ended_ms)
        ),
        (None, true) => format!(
            "Пропущенный звонок: звонил в {start}, {}, без ответа.",
            span(outcome.started_ms, outcome.ended_ms)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{outcome_mappings, outcome_words};
    use crate::domain::Direction;
    use crate::outbox::CallOutcome;
    use crate::settings::OutcomeSettings;

    #[test]
    fn an_answered_call_says_how_long_the_talk_was_and_a_missed_one_how_long_it_rang() {
        let answered = CallOutcome {
            direction: Direction::Incoming,
            started_ms: 0,
            answered_ms: Some(12_000),
            ended_ms: 192_000,
        };
        let words = outcome_words(&answered, false);
        assert!(words.starts_with("Incoming call answered at "), "{words}");
        assert!(words.ends_with("; talk 3:00."), "{words}");
        assert!(outcome_words(&answered, true).ends_with("; разговор 3:00."));
        let missed = CallOutcome {
            answered_ms: None,
            ended_ms: 12_000,
            ..answered
        };
        let words = outcome_words(&missed, false);
        assert!(words.starts_with("Missed call: rang at "), "{words}");
        assert!(words.ends_with(" for 0:12, not answered."), "{words}");
        let unanswered = CallOutcome {
            direction: Direction::Outgoing,
            ..missed
        };
        assert!(outcome_words(&unanswered, false).starts_with("Outgoing call not answered"));
    }

    #[test]
    fn an_outcome_fills_only_the_fields_named_and_says_missed_or_answered() {
        let answered = CallOutcome {
            direction: Direction::Incoming,
            started_ms: 1_764_770_400_000,
            answered_ms: Some(1_764_770_412_000),
            ended_ms: 1_764_770_592_000,
        };
        let fields = OutcomeSettings {
            result: Some("CallResult".to_owned()),
            answered: Some("CallAnswered".to_owned()),
            talk_seconds: Some("TalkSeconds".to_owned()),
            internal: Some("Agent".to_owned()),
            direction: Some("  ".to_owned()),
            ..OutcomeSettings::default()
        };
        assert!(fields.as_fields());
        assert!(!OutcomeSettings::default().as_fields());
        let pairs = |outcome: &CallOutcome| {
            outcome_mappings(outcome, Some("200"), &fields)
                .into_iter()
                .map(|m| format!("{}={}", m.code, m.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(&answered),
            [
                "CallResult=Answered",
                "CallAnswered=2025-12-03T14:00:12Z",
                "TalkSeconds=180",
                "Agent=200"
            ]
        );
        let missed = CallOutcome {
            answered_ms: None,
            ..answered
        };
        assert_eq!(
            pairs(&missed),
            ["CallResult=Missed", "TalkSeconds=0", "Agent=200"]
        );
        let unanswered = CallOutcome {
            direction: Direction::Outgoing,
            ..missed
        };
        assert_eq!(pairs(&unanswered)[0], "CallResult=Not answered");
    }
}
