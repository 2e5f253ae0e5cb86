//! Hand-offs to other programs and what comes of them: a task link to the browser (a
//! handler that fails is said in the window), Call back to whatever dials here — the dial
//! command, baresip, the desktop's `tel:` handler when it is not pyrus-phone — else "dial it
//! by hand"; and a `tel:` link that reaches pyrus-phone, which fills the form and registers
//! nothing by itself.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::Engine;
use super::shared::Shared;
use crate::bus::{DialTrouble, Event, Notice, NoticeKind};
use crate::domain::PhoneNumber;
use crate::platform::browser::{LinkError, Opened};
use crate::platform::dial;
use crate::sources::baresip::BaresipCommand;

/// How long a handler may take to say it could not open a link.
const HANDLER_VERDICT: Duration = Duration::from_secs(10);

/// A `tel:` link for a number handed to the desktop's handler this soon after is that
/// handler coming back to us.
const LINK_LOOP: Duration = Duration::from_secs(15);

/// Where Call back sends a number.
enum Route {
    /// The dial command from the settings (or MicroSIP's program).
    Command(String),
    /// baresip, over its control connection.
    Baresip,
    /// The desktop's `tel:` handler.
    Handler,
}

/// Lets a started handler run on; if it ends in failure within [`HANDLER_VERDICT`], the
/// window hears of it (told from the runtime, so nothing waits meanwhile).
fn watch(
    opened: Opened,
    ui: crate::bus::UiSender,
    event: impl FnOnce(LinkError) -> Event + Send + 'static,
) {
    let runtime = tokio::runtime::Handle::current();
    opened.watch(
        HANDLER_VERDICT,
        Box::new(move |e| {
            tracing::warn!(error = %e, "a link handler failed");
            runtime.spawn(async move {
                ui.send(event(e)).await;
            });
        }),
    );
}

impl Shared {
    /// Opens a link at once, off the async workers (starting a process can block), and
    /// without waiting: whether it could not start, or its handler failed later (no
    /// browser for it), is said in the window.
    pub(super) fn open_link(&self, engine: &Arc<Engine>, url: String) {
        let engine = Arc::clone(engine);
        let opening = tokio::task::spawn_blocking(move || engine.browser().open(&url));
        let ui = self.ui.clone();
        self.spawn(async move {
            let opened = opening
                .await
                .unwrap_or_else(|e| Err(LinkError::NoBrowser(e.to_string())));
            match opened {
                Ok(opened) => watch(opened, ui, |e| {
                    Event::Notice(Notice::new(NoticeKind::LinkNotOpened, e))
                }),
                Err(e) => {
                    ui.send(Event::Notice(Notice::new(NoticeKind::LinkNotOpened, e)))
                        .await;
                }
            }
        });
    }

    /// Watches a started handler: if it says it failed, the window is told.
    fn watch_handler(
        &self,
        opened: Opened,
        event: impl FnOnce(LinkError) -> Event + Send + 'static,
    ) {
        watch(opened, self.ui.clone(), event);
    }

    /// Calls `number` back through the first way there is to dial it; else asks the agent
    /// to dial it by hand, with the number ready to copy.
    pub(super) async fn dial(&self, engine: &Arc<Engine>, number: PhoneNumber) {
        let result = match self.route(engine) {
            Route::Command(command) => {
                let digits = number.as_str().to_owned();
                tokio::task::spawn_blocking(move || dial::run_command(&command, &digits))
                    .await
                    .unwrap_or_else(|e| Err(dial::DialError::BadCommand(e.to_string())))
                    .map_err(|e| (DialTrouble::CommandFailed, e.to_string()))
            }
            // A baresip that is away: another program may still dial; if none does, it is
            // baresip's absence the agent needs to hear of.
            Route::Baresip => match self.dial_baresip(&number) {
                Ok(()) => Ok(()),
                Err(away) => self
                    .dial_handler(engine, &number)
                    .await
                    .map_err(|(why, detail)| match why {
                        DialTrouble::NoProgram => away,
                        _ => (why, detail),
                    }),
            },
            Route::Handler => self.dial_handler(engine, &number).await,
        };
        match result {
            Ok(()) => tracing::info!(%number, "number handed on to be dialled"),
            Err((why, detail)) => {
                tracing::warn!(%number, ?why, %detail, "the number could not be dialled");
                self.ui
                    .send(Event::DialByHand {
                        number,
                        why,
                        detail,
                    })
                    .await;
            }
        }
    }

    /// The first way to dial there is: the dial command, baresip, MicroSIP's program, the
    /// desktop's handler.
    fn route(&self, engine: &Engine) -> Route {
        match engine.settings().sources.dial_command.as_deref() {
            Some(command) if !command.trim().is_empty() => Route::Command(command.to_owned()),
            _ if self.sources.as_ref().is_some_and(|s| s.baresip.is_some()) => Route::Baresip,
            _ => dial::microsip()
                .map(|program| Route::Command(format!("\"{}\"", program.display())))
                .unwrap_or(Route::Handler),
        }
    }

    /// Asks baresip to dial (it must be connected: a command for an absent baresip is lost).
    fn dial_baresip(&self, number: &PhoneNumber) -> Result<(), (DialTrouble, String)> {
        let away = |why: &str| (DialTrouble::SoftphoneAway, why.to_owned());
        let sources = self
            .sources
            .as_ref()
            .ok_or_else(|| away("no call sources"))?;
        let commands = sources.baresip.as_ref().ok_or_else(|| away("no baresip"))?;
        let baresip = sources.monitor.snapshot().baresip;
        if !baresip.as_ref().is_some_and(|b| b.connected) {
            let why = baresip
                .and_then(|b| b.problem)
                .unwrap_or_else(|| "not connected".to_owned());
            return Err(away(&why));
        }
        commands
            .try_send(BaresipCommand::Dial(number.as_str().to_owned()))
            .map_err(|e| away(&e.to_string()))
    }

    /// Hands a `tel:` link to the desktop's handler, unless that is pyrus-phone.
    async fn dial_handler(
        &self,
        engine: &Arc<Engine>,
        number: &PhoneNumber,
    ) -> Result<(), (DialTrouble, String)> {
        let engine = Arc::clone(engine);
        let uri = format!("tel:{}", number.as_str());
        let handed = tokio::task::spawn_blocking(move || engine.browser().dial(&uri))
            .await
            .unwrap_or_else(|e| Err(LinkError::NoDialler(e.to_string())));
        match handed {
            Ok(opened) => {
                *self
                    .handed_tel
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) =
                    Some((number.as_str().to_owned(), Instant::now()));
                let number = number.clone();
                self.watch_handler(opened, move |e| Event::DialByHand {
                    number,
                    why: DialTrouble::HandlerFailed,
                    detail: e.to_string(),
                });
                Ok(())
            }
            Err(e @ (LinkError::TelIsUs | LinkError::NoTelHandler)) => {
                Err((DialTrouble::NoProgram, e.to_string()))
            }
            Err(e) => Err((DialTrouble::HandlerFailed, e.to_string())),
        }
    }

    /// A `tel:` link reached this instance: the form takes its number (nothing is
    /// registered by itself). When it is the number Call back just handed to the desktop,
    /// the desktop's handler is pyrus-phone, and the agent is asked to dial by hand.
    pub(super) async fn link_heard(&self, number: PhoneNumber) {
        let ours = self
            .handed_tel
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_if(|(handed, at)| *handed == number.as_str() && at.elapsed() < LINK_LOOP)
            .is_some();
        let event = if ours {
            tracing::warn!(%number, "Call back's tel: link came back: pyrus-phone is the desktop's tel: handler");
            Event::DialByHand {
                number,
                why: DialTrouble::NoProgram,
                detail: LinkError::TelIsUs.to_string(),
            }
        } else {
            tracing::info!(%number, "a tel: link: its number is in the form");
            Event::LinkNumber(number)
        };
        self.ui.send(event).await;
        self.ui.send(Event::Raise).await;
    }
}
