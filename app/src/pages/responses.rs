//! The Responses page (`/responses`): every alarm's newest responses in one
//! list, so a responder sees what waits for approval, what ran and what was
//! reverted without opening each alarm, and decides from here. The playbooks
//! themselves are set on each alarm's page.

use keywatch_domain::response::ResponseStatus;
use leptos::prelude::*;

use crate::api::responses::{DecideResponse, ResponseView, recent_responses};
use crate::components::feedback::ErrorPanel;
use crate::error::AppError;
use crate::pages::alarms::responses::{REFRESH_EVERY, ResponsesTable};

#[component]
pub fn ResponsesPage() -> impl IntoView {
    let listed: RwSignal<Option<Result<Vec<ResponseView>, AppError>>> = RwSignal::new(None);
    let load = move || {
        leptos::task::spawn_local(async move {
            let found = recent_responses().await;
            // Redrawn only when something changed, so a button under the
            // pointer stays where it is; a failed refresh keeps the list.
            match (found, listed.with_untracked(|shown| shown.clone())) {
                (Ok(found), Some(Ok(shown))) if found == shown => {}
                (Err(_), Some(Ok(_))) => {}
                (found, _) => listed.set(Some(found)),
            }
        });
    };
    Effect::new(move |_| {
        load();
        if let Ok(handle) = set_interval_with_handle(load, REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    let decide = ServerAction::<DecideResponse>::new();
    Effect::new(move |_| {
        if decide.value().get().is_some() {
            load();
        }
    });
    view! {
        <h1>"Responses"</h1>
        <p class="hint">
            "What Keywatch did, or asks to do, when a managed alarm went into ALARM: every alarm's newest \
             responses, refreshed every 2 seconds. Playbooks and maintenance windows are set on each alarm's page."
        </p>
        {move || match listed.get() {
            None => view! { <p class="loading">"Reading the responses…"</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorPanel error /> }.into_any(),
            Some(Ok(responses)) => {
                let waiting = responses.iter().filter(|r| r.status == ResponseStatus::AwaitingApproval).count();
                view! {
                    <p class="summary" data-testid="awaiting-approval">{awaiting_text(waiting)}</p>
                    <ResponsesTable responses decide show_alarm=true />
                }
                .into_any()
            }
        }}
        {move || decide.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
    }
}

/// The line above the list: how many responses wait for a decision.
fn awaiting_text(waiting: usize) -> String {
    match waiting {
        0 => "Nothing waits for approval.".to_owned(),
        1 => "1 response waits for approval.".to_owned(),
        n => format!("{n} responses wait for approval."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_waits() {
        assert_eq!(awaiting_text(0), "Nothing waits for approval.");
        assert_eq!(awaiting_text(1), "1 response waits for approval.");
        assert_eq!(awaiting_text(3), "3 responses wait for approval.");
    }
}
