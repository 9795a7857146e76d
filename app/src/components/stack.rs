//! How the wizard shows a CloudFormation stack: its status, a progress bar
//! over its resources, its event stream and its outputs.

use leptos::prelude::*;

use crate::api::lab::{EventView, SectionLive, StackOutputView, StackState};

/// The stack's status as a badge coloured by how it is going.
#[component]
pub fn StackStatusBadge(stack: StackState) -> impl IntoView {
    let class = match stack.status.as_deref() {
        None | Some("DELETE_COMPLETE") => "status status-none",
        Some(status) if status.ends_with("_IN_PROGRESS") => "status status-working",
        Some(status) if status.contains("ROLLBACK") || status.ends_with("_FAILED") => "status status-failed",
        Some(_) => "status status-ok",
    };
    view! { <span class=class data-testid="stack-status">{stack.label()}</span> }
}

/// The progress bar, the status, CloudFormation's reason for a failure, the
/// outputs when complete, and the events, all from one reading of the stack.
#[component]
pub fn StackLiveView(live: SectionLive) -> impl IntoView {
    let failed = live.stack.status.as_deref().is_some_and(|s| s.contains("ROLLBACK") || s.ends_with("_FAILED"));
    // The first failed resource carries the real reason; the stack's own
    // reason only says which resources failed.
    let first_failure = live
        .events
        .iter()
        .find(|event| event.status.ends_with("_FAILED") && event.reason.is_some())
        .map(|event| format!("{}: {}", event.logical_id, event.reason.clone().unwrap_or_default()));
    let percent = (live.done * 100).checked_div(live.total).unwrap_or(0);
    let ready = live.stack.is_ready();
    view! {
        <section class="panel" aria-label="Progress">
            <div class="panel-header">
                <h2>"Progress"</h2>
                <StackStatusBadge stack=live.stack.clone() />
            </div>
            {if live.total == 0 {
                // Nothing planned or deployed yet: no bar to fill.
                view! {
                    <p data-testid="progress-text" class="hint">
                        "Not deployed yet: Preview lists what the stack will create."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <progress
                        class="progress"
                        max=live.total
                        value=live.done
                        aria-label="Resources complete"
                        aria-valuetext=format!("{} of {} resources complete", live.done, live.total)
                    ></progress>
                    <p data-testid="progress-text">
                        {format!("{} of {} resources complete ({percent}%)", live.done, live.total)}
                    </p>
                }
                .into_any()
            }}
            {failed.then(|| view! {
                <div class="panel panel-error" role="alert">
                    <h3>"CloudFormation reported a failure"</h3>
                    {live.stack.reason.clone().map(|reason| view! { <p>{reason}</p> })}
                    {first_failure.map(|reason| view! { <p data-testid="failure-reason">{reason}</p> })}
                </div>
            })}
            {live.deployment.map(|deployment| view! {
                <p class="hint" data-testid="deployment">
                    {format!(
                        "Last {} by {} started {}{}",
                        deployment.action,
                        deployment.actor,
                        readable_time(&deployment.started_at),
                        match deployment.outcome.as_deref() {
                            None => " — in progress".to_owned(),
                            Some(outcome) => format!(" — {outcome}"),
                        }
                    )}
                </p>
            })}
        </section>
        {(ready && !live.stack.outputs.is_empty()).then(|| view! { <OutputsTable outputs=live.stack.outputs.clone() /> })}
        <EventsTable events=live.events />
    }
}

/// The stack's outputs.
#[component]
pub fn OutputsTable(outputs: Vec<StackOutputView>) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Outputs"</h2>
            <table class="table" aria-label="Outputs">
                <thead><tr><th>"Key"</th><th>"Value"</th><th>"Description"</th></tr></thead>
                <tbody>
                    {outputs.into_iter().map(|output| view! {
                        <tr>
                            <td>{output.key}</td>
                            <td><code>{output.value}</code></td>
                            <td>{output.description.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The recorded stack events, newest first as CloudFormation's console lists them.
#[component]
pub fn EventsTable(events: Vec<EventView>) -> impl IntoView {
    let empty = events.is_empty();
    // Newest first; the rest folded away (a stack's events made section
    // pages 6,000 px tall), and failures always shown.
    let mut newest: Vec<EventView> = events.into_iter().rev().collect();
    let older: Vec<EventView> =
        if newest.len() > EVENTS_SHOWN_OPEN { newest.split_off(EVENTS_SHOWN_OPEN) } else { Vec::new() };
    let older_count = older.len();
    view! {
        <section class="panel">
            <h2>"Stack events"</h2>
            {empty.then(|| view! { <p class="empty">"No events recorded yet."</p> })}
            <table class="table" aria-label="Stack events">
                <thead><tr><th>"When (UTC)"</th><th>"Resource"</th><th>"Type"</th><th>"Status"</th><th>"Reason"</th></tr></thead>
                <tbody>{newest.into_iter().map(event_row).collect_view()}</tbody>
            </table>
            {(older_count > 0).then(|| view! {
                <details>
                    <summary>{format!("{older_count} earlier event(s)")}</summary>
                    <table class="table" aria-label="Earlier stack events">
                        <tbody>{older.into_iter().map(event_row).collect_view()}</tbody>
                    </table>
                </details>
            })}
        </section>
    }
}

/// Events shown before "earlier events" is opened.
const EVENTS_SHOWN_OPEN: usize = 8;

fn event_row(event: EventView) -> impl IntoView {
    let class = if event.status.ends_with("_FAILED") { "failed" } else { "" };
    view! {
        <tr class=class>
            <td>{readable_time(&event.timestamp)}</td>
            <td>{event.logical_id}</td>
            <td>{event.resource_type}</td>
            <td>{event.status}</td>
            <td>{event.reason.unwrap_or_default()}</td>
        </tr>
    }
}

/// `2026-11-26T22:10:05.123Z` as `2026-11-26 22:10:05`.
pub fn readable_time(rfc3339: &str) -> String {
    rfc3339.get(..19).map_or_else(|| rfc3339.to_owned(), |prefix| prefix.replace('T', " "))
}
