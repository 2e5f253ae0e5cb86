//! The command line: arguments, the commands behind them and their exit codes.
//!
//! Exit codes: 0 done; 1 internal failure (disk, database); 2 bad usage or input; 3 refused
//! by Pyrus; 4 credentials missing or rejected; 75 Pyrus not reachable in time (the work is
//! kept in the outbox).

mod commands;
mod output;
pub mod sandbox;
mod setup;
mod twinkle;
mod who;
mod wrapup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// pyrus-phone: register softphone calls in Pyrus and attach their recordings.
#[derive(Debug, Parser)]
#[command(name = "pyrus-phone", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// A tel:, callto: or sip: link to call (what the desktop hands a URI handler).
    #[arg(value_name = "URI")]
    pub uri: Option<String>,
    /// Open the window against a built-in demo sandbox instead of Pyrus.
    #[arg(long)]
    pub demo: bool,
    /// Run the service and every call source without a window.
    #[arg(long)]
    pub headless: bool,
    /// Start with the window minimised (how "Start when I log in" starts it).
    #[arg(long)]
    pub minimized: bool,
    /// Listen for events on this loopback port for this run (0 picks a free one).
    #[arg(long, value_name = "N")]
    pub hook_port: Option<u16>,
    /// Listen to baresip's ctrl_tcp at this address for this run (e.g. 127.0.0.1:4444).
    #[arg(long, value_name = "ADDR")]
    pub baresip: Option<String>,
    /// Pick up recordings from this folder for this run.
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// An event to feed in at start, as JSON, or `-` to read it from standard input (never
    /// put a number on a command line: every user can read those).
    #[arg(long, value_name = "JSON", hide = true)]
    pub initial_event: Option<String>,
    /// What to do; with none, the window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a login and security key against Pyrus and store the key in the OS keyring.
    Login(LoginArgs),
    /// Register a call in Pyrus.
    Call(CallArgs),
    /// Upload a recording and attach it to a call's task.
    Attach(AttachArgs),
    /// Show kept jobs, or retry or discard one.
    Queue(QueueArgs),
    /// Run the built-in Pyrus sandbox alone.
    Sandbox(SandboxArgs),
    /// Hand a call event to the running pyrus-phone (for softphone command hooks) and exit.
    Event(EventArgs),
    /// Show who is calling: the caller's Pyrus tasks, from the local index of customers.
    Who(WhoArgs),
    /// Save a call's wrap-up to its task: notes and outcome fields, as one comment.
    Wrapup(WrapupArgs),
    /// Set a softphone up to tell pyrus-phone of its calls.
    #[command(subcommand)]
    Setup(SetupCommand),
}

/// What `setup` sets up.
#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Point Twinkle's eight call scripts at `pyrus-phone event --twinkle` (each profile kept
    /// in a backup beside it first); restart Twinkle afterwards.
    Twinkle(SetupTwinkleArgs),
}

/// `setup twinkle` arguments.
#[derive(Debug, Args)]
pub struct SetupTwinkleArgs {
    /// Only this profile (the file name in ~/.twinkle without `.cfg`); every profile when
    /// left out.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Give the scripts back what they ran before.
    #[arg(long)]
    pub undo: bool,
    /// Replace scripts that run another program too (they are kept and listed otherwise).
    #[arg(long, conflicts_with = "undo")]
    pub force: bool,
    /// Twinkle's folder, when it is not ~/.twinkle.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `wrapup` arguments.
#[derive(Debug, Args)]
pub struct WrapupArgs {
    /// The task.
    #[arg(long, value_name = "N")]
    pub task: u64,
    /// The notes.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// A field of the form to set, as CODE=VALUE (a choice by its name; repeatable).
    #[arg(long = "set", value_name = "CODE=VALUE")]
    pub set: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to keep trying (at most a day); the wrap-up is kept and sent later after that.
    #[arg(long, default_value_t = 30, value_parser = wait_seconds)]
    pub wait: u64,
}

/// `who` arguments.
#[derive(Debug, Args)]
pub struct WhoArgs {
    /// The caller's number.
    pub number: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to spend reading the forms when the index was never filled.
    #[arg(long, default_value_t = 60, value_parser = wait_seconds)]
    pub wait: u64,
}

/// `event` arguments: the number last, as MicroSIP appends it.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// The event from Twinkle's call script environment (what `script_*` runs); nothing
    /// else is given then.
    #[arg(long, conflicts_with_all = ["kind", "number", "call_id", "internal", "line"])]
    pub twinkle: bool,
    /// ring, answer, end or outgoing.
    #[arg(required_unless_present = "twinkle")]
    pub kind: Option<String>,
    /// The call's id in the softphone.
    #[arg(long, value_name = "ID")]
    pub call_id: Option<String>,
    /// The agent's internal number.
    #[arg(long, value_name = "N")]
    pub internal: Option<String>,
    /// This line's number (the callee of an incoming call).
    #[arg(long, value_name = "N")]
    pub line: Option<String>,
    /// The far party's number.
    #[arg(required_unless_present = "twinkle")]
    pub number: Option<String>,
}

/// `login` arguments.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The bot's or user's login (asked when left out).
    #[arg(long)]
    pub login: Option<String>,
    /// The API telephony extension's account id (asked when left out).
    #[arg(long)]
    pub account_id: Option<String>,
    /// The full auth endpoint (on-premise Pyrus or a sandbox).
    #[arg(long)]
    pub auth_url: Option<String>,
    /// Person id, when several accounts share one e-mail.
    #[arg(long)]
    pub person_id: Option<u64>,
}

/// `call` arguments.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Caller's number.
    #[arg(long, value_name = "N")]
    pub from: String,
    /// Called number.
    #[arg(long, value_name = "N")]
    pub to: String,
    /// The operator's internal number.
    #[arg(long, value_name = "N")]
    pub internal: Option<String>,
    /// The call's id in the softphone; generated when left out.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// A form field to fill, as CODE=VALUE (repeatable).
    #[arg(long = "map", value_name = "CODE=VALUE")]
    pub mappings: Vec<String>,
    /// Which way the call went.
    #[arg(long, value_enum)]
    pub direction: Option<CallDirection>,
    /// Open the task in the browser once registered.
    #[arg(long)]
    pub open: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to keep retrying before leaving the call in the outbox (exit 75).
    #[arg(long, value_name = "SECONDS", value_parser = wait_seconds, default_value_t = 30)]
    pub wait: u64,
}

/// `--direction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallDirection {
    /// A client called the agent.
    Incoming,
    /// The agent called a client.
    Outgoing,
}

/// `attach` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["task", "external_id", "from"])))]
pub struct AttachArgs {
    /// The recording (ac3, mp3, ogg, wav or wma).
    pub file: PathBuf,
    /// The task the call was registered in.
    #[arg(long, value_name = "ID")]
    pub task: Option<u64>,
    /// The call's external id.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Caller's number (with --to).
    #[arg(long, value_name = "N", requires = "to")]
    pub from: Option<String>,
    /// Called number (with --from).
    #[arg(long, value_name = "N", requires = "from")]
    pub to: Option<String>,
    /// A form field to fill, as CODE=VALUE (repeatable).
    #[arg(long = "map", value_name = "CODE=VALUE")]
    pub mappings: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to keep retrying before leaving the recording in the outbox (exit 75).
    #[arg(long, value_name = "SECONDS", value_parser = wait_seconds, default_value_t = 120)]
    pub wait: u64,
}

/// `queue` arguments.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Retry or discard a job; with none, list the jobs.
    #[command(subcommand)]
    pub action: Option<QueueAction>,
}

/// What to do with one job.
#[derive(Debug, Subcommand)]
pub enum QueueAction {
    /// Send a job again now.
    Retry {
        /// The job's number (from `pyrus-phone queue`).
        id: i64,
        /// Seconds to keep retrying.
        #[arg(long, value_name = "SECONDS", value_parser = wait_seconds, default_value_t = 30)]
        wait: u64,
    },
    /// Give up on a job; it is kept as discarded and never sent.
    Discard {
        /// The job's number.
        id: i64,
    },
}

/// `sandbox` arguments.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Customers' tasks to add to the form, for load (phones +7 900 000-00-00 on).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub customers: u32,
}

/// How a command ended badly.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong and what to do.
    pub message: String,
}

impl Failure {
    /// Exit 1: an internal failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
    /// Exit 2: bad usage or input.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    /// Exit 3: refused by Pyrus.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            message: message.into(),
        }
    }
    /// Exit 4: credentials missing or rejected.
    pub fn credentials(message: impl Into<String>) -> Self {
        Self {
            code: 4,
            message: message.into(),
        }
    }
    /// Exit 75: Pyrus not reachable in time.
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            code: 75,
            message: message.into(),
        }
    }
}

pub use crate::profile::Context;

/// Handles a `tel:`/`callto:`/`sip:` link: an outgoing call handed to the running instance
/// (or to one started for it).
pub fn open_uri(uri: &str, ctx: &Context) -> ExitCode {
    let result = crate::domain::number_from_uri(uri)
        .ok_or_else(|| Failure::usage(format!("'{uri}' is not a tel:, callto: or sip: link")))
        .and_then(|number| {
            crate::domain::CallEvent::parse("outgoing", &number, None, None, None, "uri")
                .map_err(|e| Failure::usage(e.to_string()))
        })
        .and_then(|event| commands::hand_over(&event, ctx));
    finish(result)
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// How long past its `--wait` a run may take to finish (a write waiting out another
/// program's lock on the outbox, the runtime's shutdown) before it is ended anyway.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Ends the process with exit 75 once `wait` and [`CLOSE_GRACE`] have passed: the network
/// part of a run is cut at `--wait` already; this bounds whatever else blocks (a settings
/// file or an outbox on a share that does not answer, a lock held for long).
fn watch_the_wait(wait: u64) {
    let limit = std::time::Duration::from_secs(wait) + CLOSE_GRACE;
    let spawned = std::thread::Builder::new()
        .name("wait-watch".into())
        .spawn(move || {
            std::thread::sleep(limit);
            tracing::error!(wait, "the run did not finish within its wait; ended");
            eprintln!(
                "error: pyrus-phone did not finish within --wait {wait} s (and {} s to close): something it needs did not answer — the outbox held by another program, or a folder on a share that does not answer. What was stored is kept and sent by the next run; see the log.",
                CLOSE_GRACE.as_secs()
            );
            std::process::exit(75);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "the run's wait is not watched");
    }
}

/// Runs a command and turns its outcome into the exit code, printing the reason.
pub async fn run(command: Command, ctx: Context) -> ExitCode {
    let wait = match &command {
        Command::Call(args) => Some(args.wait),
        Command::Attach(args) => Some(args.wait),
        Command::Who(args) => Some(args.wait),
        Command::Wrapup(args) => Some(args.wait),
        Command::Queue(QueueArgs {
            action: Some(QueueAction::Retry { wait, .. }),
            ..
        }) => Some(*wait),
        _ => None,
    };
    if let Some(wait) = wait {
        watch_the_wait(wait);
    }
    let result = match command {
        Command::Login(args) => commands::login(args, &ctx).await,
        Command::Call(args) => commands::call(args, &ctx).await,
        Command::Attach(args) => commands::attach(args, &ctx).await,
        Command::Queue(args) => commands::queue(args, &ctx).await,
        Command::Sandbox(args) => sandbox::serve(args, &ctx).await,
        Command::Event(args) if args.twinkle => twinkle::event(&ctx),
        Command::Event(args) => commands::event(&args, &ctx),
        Command::Who(args) => who::who(args, &ctx).await,
        Command::Wrapup(args) => wrapup::wrapup(args, &ctx).await,
        Command::Setup(SetupCommand::Twinkle(args)) => setup::twinkle(&args, &ctx),
    };
    finish(result)
}

/// The longest `--wait`: a day.
const MAX_WAIT_SECS: u64 = 24 * 60 * 60;

/// Parses `--wait`: whole seconds, at most a day.
fn wait_seconds(text: &str) -> Result<u64, String> {
    let secs: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if secs > MAX_WAIT_SECS {
        return Err(format!(
            "{secs} s is more than a day ({MAX_WAIT_SECS} s): kept work is sent by the next run anyway, so wait less"
        ));
    }
    Ok(secs)
}
