//! The Connection page: which AWS the console talks to, who it is there, and
//! the recorded history of checks.

use leptos::prelude::*;

use crate::api::connection::{
    AwsMode, CheckConnection, CheckOutcome, ConnectionCheck, ConsoleSettings, ModeSource, get_console_settings,
    recent_connection_checks,
};
use crate::components::feedback::ErrorPanel;

/// The Connection page.
#[component]
pub fn ConnectionPage() -> impl IntoView {
    let check = ServerAction::<CheckConnection>::new();
    let settings = OnceResource::new(get_console_settings());
    let checks = Resource::new(move || check.version().get(), |_| recent_connection_checks());

    view! {
        <h1>"Connection"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <SettingsPanel settings /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
        <section class="panel">
            <div class="panel-header">
                <h2>"Identity"</h2>
                <ActionForm action=check>
                    <button type="submit" class="button" disabled=move || check.pending().get()>
                        {move || if check.pending().get() { "Checking…" } else { "Check connection" }}
                    </button>
                </ActionForm>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading checks…"</p> }>
                {move || Suspend::new(async move {
                    match checks.await {
                        Ok(checks) => view! { <ChecksView checks /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SettingsPanel(settings: ConsoleSettings) -> impl IntoView {
    let explanation = match (settings.mode, settings.mode_source) {
        (AwsMode::Sandbox, ModeSource::NoCredentialsFound) => {
            "No AWS credentials were found, so Keywatch runs against its built-in sandbox: an offline \
             stand-in for AWS in which the whole monitoring loop really runs. Nothing here is billed."
        }
        (AwsMode::Sandbox, _) => {
            "Keywatch runs against its built-in sandbox, as asked: an offline stand-in for AWS. Nothing here is billed."
        }
        (AwsMode::Live, _) => {
            "Keywatch calls real AWS with your credentials. Resources it creates are billed to that account."
        }
    };
    let mode = match settings.mode {
        AwsMode::Sandbox => "Sandbox",
        AwsMode::Live => "Live AWS",
    };
    view! {
        <section class="panel" aria-label="Settings">
            <p class=move || if settings.mode == AwsMode::Sandbox { "banner banner-sandbox" } else { "banner banner-live" }>
                {explanation}
            </p>
            <dl class="facts">
                <dt>"Mode"</dt>
                <dd data-testid="mode">{mode}</dd>
                <dt>"Region"</dt>
                <dd>{format!("{} ({})", settings.region, settings.region_name)}</dd>
                <dt>"Profile"</dt>
                <dd>{settings.profile.clone().unwrap_or_else(|| "default credential chain".to_owned())}</dd>
                {settings.sandbox_endpoint.clone().map(|endpoint| view! {
                    <dt>"Sandbox endpoint"</dt>
                    <dd><code>{endpoint}</code></dd>
                })}
            </dl>
        </section>
    }
}

#[component]
fn ChecksView(checks: Vec<ConnectionCheck>) -> impl IntoView {
    let latest = checks.first().cloned();
    view! {
        {match latest {
            None => view! { <p class="empty">"No check has run yet. Check the connection to see who Keywatch is in AWS."</p> }.into_any(),
            Some(latest) => view! { <LatestCheck check=latest /> }.into_any(),
        }}
        <h3>"Recent checks"</h3>
        <table class="table" aria-label="Recent checks">
            <thead>
                <tr><th>"When (UTC)"</th><th>"Mode"</th><th>"Region"</th><th>"Outcome"</th></tr>
            </thead>
            <tbody>
                {checks.into_iter().map(|check| view! { <CheckRow check /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn LatestCheck(check: ConnectionCheck) -> impl IntoView {
    match check.outcome {
        CheckOutcome::Connected(identity) => {
            let (details_shown, set_details_shown) = signal(false);
            view! {
                <dl class="facts" aria-label="Caller identity">
                    <dt>"Account"</dt>
                    <dd data-testid="account-id">{identity.account_id}</dd>
                    <dt>"Caller ARN"</dt>
                    <dd data-testid="caller-arn"><code>{identity.arn}</code></dd>
                </dl>
                <button
                    type="button"
                    class="link-button"
                    aria-expanded=move || details_shown.get().to_string()
                    on:click=move |_| set_details_shown.update(|shown| *shown = !*shown)
                >
                    {move || if details_shown.get() { "Hide caller details" } else { "Show caller details" }}
                </button>
                <Show when=move || details_shown.get()>
                    <dl class="facts" aria-label="Caller details">
                        <dt>"User id"</dt>
                        <dd data-testid="user-id">{identity.user_id.clone()}</dd>
                        <dt>"Checked"</dt>
                        <dd>{readable_time(&check.checked_at)}</dd>
                    </dl>
                </Show>
            }
            .into_any()
        }
        CheckOutcome::Failed(error) => view! { <ErrorPanel error /> }.into_any(),
    }
}

#[component]
fn CheckRow(check: ConnectionCheck) -> impl IntoView {
    let mode = match check.mode {
        AwsMode::Sandbox => "Sandbox",
        AwsMode::Live => "Live",
    };
    let (class, outcome) = match &check.outcome {
        CheckOutcome::Connected(identity) => ("ok", format!("Connected as {}", identity.arn)),
        CheckOutcome::Failed(error) => ("failed", format!("{}: {error}", error.title())),
    };
    view! {
        <tr class=class>
            <td>{readable_time(&check.checked_at)}</td>
            <td>{mode}</td>
            <td>{check.region}</td>
            <td>{outcome}</td>
        </tr>
    }
}

/// `2026-11-26T22:10:05.123Z` as `2026-11-26 22:10:05`.
fn readable_time(rfc3339: &str) -> String {
    rfc3339.get(..19).map_or_else(|| rfc3339.to_owned(), |prefix| prefix.replace('T', " "))
}
