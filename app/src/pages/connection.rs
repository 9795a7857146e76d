//! The Connection page: which AWS the console talks to, who it is there, and
//! the recorded history of checks.

use leptos::prelude::*;

use keywatch_domain::connection::parse_choice;
use keywatch_domain::region::REGIONS;

use crate::api::connection::{
    AwsMode, ChangeConnection, CheckConnection, CheckOutcome, ConnectionCheck, ConsoleSettings, ModeSource,
    get_console_settings, recent_connection_checks,
};
use crate::components::feedback::ErrorPanel;
use crate::components::layout::ConnectionVersion;
use crate::error::AppError;

/// The Connection page.
#[component]
pub fn ConnectionPage() -> impl IntoView {
    let check = ServerAction::<CheckConnection>::new();
    let change = ServerAction::<ChangeConnection>::new();
    // A switch changes the header's badge too: it follows the layout's version.
    let version = use_context::<ConnectionVersion>().map(|ConnectionVersion(version)| version);
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(version)) = (change.value().get(), version) {
            version.update(|v| *v += 1);
        }
    });
    let settings = Resource::new(move || change.version().get(), |_| get_console_settings());
    let checks = Resource::new(move || (check.version().get(), change.version().get()), |_| recent_connection_checks());

    view! {
        <h1>"Connection"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! {
                        <SettingsPanel settings=settings.clone() />
                        <ConnectionForm settings change />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
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

/// Region and profile: checked beside each field as the user types (the
/// same rules the server applies), and nothing is sent while a field is wrong.
#[component]
fn ConnectionForm(settings: ConsoleSettings, change: ServerAction<ChangeConnection>) -> impl IntoView {
    let live = settings.mode == AwsMode::Live;
    let (region, set_region) = signal(settings.region.clone());
    let (profile, set_profile) = signal(settings.profile.clone().unwrap_or_default());
    let local_error = move |field: &str| {
        parse_choice(&region.get(), &profile.get()).err().filter(|error| error.field() == field).map(|e| e.to_string())
    };
    let server_error = move |field: &str| match change.value().get() {
        Some(Err(AppError::InvalidInput { field: Some(f), message })) if f == field => Some(message),
        _ => None,
    };
    let field_error = move |field: &'static str| local_error(field).or_else(|| server_error(field));
    let other_error = move || match change.value().get() {
        Some(Err(AppError::InvalidInput { field: Some(_), .. })) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(error),
    };
    let invalid = move || parse_choice(&region.get(), &profile.get()).is_err();
    view! {
        <section class="panel" aria-label="Change connection">
            <h2>"Region and profile"</h2>
            <p class="hint">
                {if live {
                    "Every AWS call, poller and page follows the change at once. The choice is remembered \
                     across restarts unless --region or --profile is given."
                } else {
                    "The sandbox keeps each Region apart, as AWS does. The choice is remembered across restarts \
                     unless --region is given."
                }}
            </p>
            <ActionForm action=change attr:class="form-grid" attr:novalidate=true>
                <div class="field">
                    <label for="connection-region">"Region"</label>
                    <input
                        id="connection-region"
                        name="input[region]"
                        list="aws-regions"
                        autocomplete="off"
                        maxlength="64"
                        prop:value=region
                        aria-invalid=move || field_error("region").is_some().to_string()
                        on:input=move |ev| set_region.set(event_target_value(&ev))
                    />
                    <datalist id="aws-regions">
                        {REGIONS
                            .iter()
                            .map(|r| view! { <option value=r.code>{r.display_name}</option> })
                            .collect_view()}
                    </datalist>
                    {move || field_error("region").map(|m| view! { <p class="field-error" role="alert" data-testid="region-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for="connection-profile">"Profile"</label>
                    <input
                        id="connection-profile"
                        name="input[profile]"
                        autocomplete="off"
                        maxlength="200"
                        placeholder="default credential chain"
                        disabled=!live
                        prop:value=profile
                        aria-invalid=move || field_error("profile").is_some().to_string()
                        on:input=move |ev| set_profile.set(event_target_value(&ev))
                    />
                    {(!live).then(|| view! { <p class="hint">"Profiles apply to live AWS only."</p> })}
                    {move || field_error("profile").map(|m| view! { <p class="field-error" role="alert" data-testid="profile-error">{m}</p> })}
                </div>
                <div class="actions">
                    <button type="submit" class="button" disabled=move || invalid() || change.pending().get()>
                        {move || if change.pending().get() { "Switching…" } else { "Switch" }}
                    </button>
                </div>
            </ActionForm>
            {move || change.value().get().and_then(Result::ok).map(|now| view! {
                <p class="banner" role="status" data-testid="switched">
                    {format!("Switched: the console now works in {} ({}).", now.region_name, now.region)}
                </p>
            })}
            {move || other_error().map(|error| view! { <ErrorPanel error /> })}
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
