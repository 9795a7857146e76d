//! The teardown page (`/lab/teardown`): what will be deleted, confirmation
//! by typing the prefix, then each step's progress (emptying the ECR
//! repository, the logging, application and base stacks in that order, the
//! retained trail bucket) and anything left behind with how to remove it.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::lab::{
    RemoveLeftover, RemoveLeftoverRequest, StartTeardown, TeardownQuery, TeardownRequest, TeardownStatus,
    get_teardown_status,
};
use crate::components::feedback::ErrorPanel;
use crate::components::stack::StackStatusBadge;
use crate::error::AppError;

/// How often the page asks how teardown is going while it runs.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The `/lab/teardown` page.
#[component]
pub fn TeardownPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_teardown_status(TeardownQuery { prefix: None }));
    view! {
        <h1>"Tear down the lab"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading the lab's stacks…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(status) => view! { <TeardownView status /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TeardownView(status: TeardownStatus) -> impl IntoView {
    let prefix = status.prefix.clone();
    let current = RwSignal::new(status);
    let confirmation = RwSignal::new(String::new());
    let start = ServerAction::<StartTeardown>::new();
    Effect::new(move |_| {
        if let Some(Ok(started)) = start.value().get() {
            current.set(started);
        }
    });
    let remove = ServerAction::<RemoveLeftover>::new();
    Effect::new(move |_| {
        if let Some(Ok(after)) = remove.value().get() {
            current.set(after);
        }
    });
    let leftovers_prefix = prefix.clone();
    // Effects run only in the browser: poll while the teardown runs.
    let poll_prefix = prefix.clone();
    Effect::new(move |_| {
        let poll_prefix = poll_prefix.clone();
        let tick = move || {
            if !current.with_untracked(|status| status.running) {
                return;
            }
            let query = TeardownQuery { prefix: Some(poll_prefix.clone()) };
            leptos::task::spawn_local(async move {
                if let Ok(now) = get_teardown_status(query).await {
                    current.set(now);
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(tick, POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });

    let expected = prefix.clone();
    let confirm_error = move || {
        let typed = confirmation.get();
        if typed.is_empty() || typed.trim() == expected {
            None
        } else {
            Some(format!("type {expected} exactly to confirm"))
        }
    };
    let server_error = move || start.value().get().and_then(Result::err);
    let submit_prefix = prefix.clone();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if confirmation.get_untracked().trim() != submit_prefix {
            return;
        }
        start.dispatch(StartTeardown {
            request: TeardownRequest { prefix: submit_prefix.clone(), confirmation: confirmation.get_untracked() },
        });
    };
    let ready_prefix = prefix.clone();
    view! {
        <section class="panel" aria-label="Stacks">
            <h2>"Stacks, deleted in this order"</h2>
            {move || view! {
                <table class="table" aria-label="Teardown stacks">
                    <thead><tr><th>"Section"</th><th>"Stack"</th><th>"Status"</th></tr></thead>
                    <tbody>
                        {current.get().stacks.into_iter().map(|status| view! {
                            <tr>
                                <td>{status.section.title()}</td>
                                <td><code>{status.stack.stack_name.clone()}</code></td>
                                <td><StackStatusBadge stack=status.stack /></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }}
            <p class="hint">
                "The ECR repository is emptied first, and the CloudTrail bucket the logging stack keeps \
                 (DeletionPolicy Retain) is emptied and deleted last."
            </p>
        </section>
        <section class="panel" aria-label="Confirm teardown">
            <h2>"Confirm"</h2>
            <form class="form-grid" on:submit=on_submit novalidate>
                <div class="field">
                    <label for="confirmation">{format!("Type the prefix {prefix} to confirm")}</label>
                    <input
                        id="confirmation"
                        name="confirmation"
                        type="text"
                        autocomplete="off"
                        prop:value=move || confirmation.get()
                        on:input=move |event| confirmation.set(event_target_value(&event))
                        aria-describedby="confirmation-error"
                    />
                    <p class="field-error" id="confirmation-error" role="alert">
                        {move || confirm_error().or_else(|| match server_error() {
                            Some(AppError::InvalidInput { message, .. }) => Some(message),
                            _ => None,
                        })}
                    </p>
                </div>
                <div class="actions">
                    <button
                        type="submit"
                        class="button"
                        disabled=move || {
                            current.with(|status| status.running) || confirmation.get().trim() != ready_prefix
                        }
                    >
                        "Tear down the lab"
                    </button>
                </div>
            </form>
        </section>
        {move || server_error().filter(|error| !matches!(error, AppError::InvalidInput { .. })).map(|error| view! {
            <ErrorPanel error />
        })}
        {move || {
            let status = current.get();
            (!status.steps.is_empty()).then(|| view! {
                <section class="panel" aria-label="Teardown progress">
                    <h2>{match (status.running, status.finished_at.clone()) {
                        (true, _) => "Tearing down…".to_owned(),
                        (false, Some(at)) => format!("Teardown finished {at}"),
                        (false, None) => "Teardown finished".to_owned(),
                    }}</h2>
                    <ol class="steps">
                        {status.steps.into_iter().map(|step| view! {
                            <li class=format!("step-{}", step.state)>
                                {format!("{} — {}", step.title, step.state)}
                                {step.detail.map(|detail| format!(": {detail}"))}
                            </li>
                        }).collect_view()}
                    </ol>
                    {(!status.running).then(|| if status.leftovers.is_empty() {
                        view! { <p data-testid="leftovers">"Nothing was left behind."</p> }.into_any()
                    } else {
                        view! {
                            <h3>"Left behind"</h3>
                            <table class="table" aria-label="Leftovers">
                                <thead><tr><th>"What"</th><th>"Name"</th><th>"How to remove it"</th><th></th></tr></thead>
                                <tbody>
                                    {status.leftovers.into_iter().map(|leftover| {
                                        let request = RemoveLeftoverRequest {
                                            prefix: leftovers_prefix.clone(),
                                            name: leftover.name.clone(),
                                        };
                                        let label = format!("Delete {}", leftover.name);
                                        view! {
                                            <tr>
                                                <td>{leftover.what}</td>
                                                <td><code>{leftover.name}</code></td>
                                                <td><code>{leftover.how_to_remove}</code></td>
                                                <td>
                                                    {leftover.removal.map(|_| {
                                                        // Deleting a snapshot cannot be undone: a second,
                                                        // explicit click confirms it.
                                                        let name = request.name.clone();
                                                        let asked = RwSignal::new(false);
                                                        let confirm_label = format!("Yes, delete {name}");
                                                        view! {
                                                            <Show
                                                                when=move || asked.get()
                                                                fallback=move || view! {
                                                                    <button
                                                                        type="button"
                                                                        class="button button-danger"
                                                                        aria-label=label.clone()
                                                                        disabled=move || remove.pending().get()
                                                                        on:click=move |_| asked.set(true)
                                                                    >
                                                                        "Delete"
                                                                    </button>
                                                                }
                                                            >
                                                                <p class="hint" role="alert">
                                                                    {format!("{name} cannot be restored once deleted.")}
                                                                </p>
                                                                <button
                                                                    type="button"
                                                                    class="button button-danger"
                                                                    aria-label=confirm_label.clone()
                                                                    disabled=move || remove.pending().get()
                                                                    on:click={
                                                                        let request = request.clone();
                                                                        move |_| {
                                                                            remove.dispatch(RemoveLeftover { request: request.clone() });
                                                                        }
                                                                    }
                                                                >
                                                                    "Yes, delete it"
                                                                </button>
                                                                <button type="button" class="button" on:click=move |_| asked.set(false)>
                                                                    "Cancel"
                                                                </button>
                                                            </Show>
                                                        }
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {move || remove.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
                        }.into_any()
                    })}
                </section>
            })
        }}
    }
}
