//! A section's page (`/lab/<slug>`): what its stack creates and why, the
//! parameter form checked beside each field before anything is sent, the
//! change-set preview, Deploy, and the deployment's live progress (polled
//! every second while CloudFormation works, so two browsers see the same).

use std::time::Duration;

use keywatch_domain::cloudformation::check_parameter_value;
use keywatch_domain::lab::{LabSection, Prefix};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::section_href;
use crate::api::lab::{
    DeleteSection, DeployRequest, DeploySection, ImageStatus, ParameterField, PreviewOutcome, PreviewRequest,
    PreviewSection, SectionDetail, SectionLive, SectionRequest, get_section_detail, get_section_live,
};
use crate::components::feedback::ErrorPanel;
use crate::components::field::ParameterField;
use crate::components::stack::StackLiveView;
use crate::error::AppError;
use crate::pages::not_found::NotFound;

/// How often the page asks for the stack's progress while it changes.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// While nothing is in progress, the page asks once every this many ticks.
const IDLE_POLL_TICKS: u32 = 5;

/// The section named by the URL, if it deploys a stack.
fn section_from_slug(slug: &str) -> Option<LabSection> {
    LabSection::ALL.into_iter().find(|section| section.slug() == slug && section.stack_suffix().is_some())
}

/// The `/lab/<slug>` page.
#[component]
pub fn SectionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let detail = Resource::new(
        move || (params.read().get("section"), query.read().get("prefix")),
        |(slug, prefix)| async move {
            match slug.as_deref().and_then(section_from_slug) {
                Some(section) => get_section_detail(SectionRequest { section, prefix }).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the section…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Some(detail)) => view! { <SectionView detail /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SectionView(detail: SectionDetail) -> impl IntoView {
    let section = detail.section;
    let live = RwSignal::new(detail.live.clone());
    view! {
        <h1>{format!("{}. {}", section.number(), section.title())}</h1>
        <p>"Stack " <code data-testid="stack-name">{detail.stack_name.clone()}</code></p>
        {(!detail.missing_prerequisites.is_empty()).then(|| view! {
            <section class="panel panel-error" aria-label="Prerequisites">
                <h2>"Deploy the sections before this one first"</h2>
                <ul>
                    {detail.missing_prerequisites.iter().map(|missing| view! {
                        <li><a href=section_href(*missing)>{format!("{}. {}", missing.number(), missing.title())}</a></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <ResourcesPanel detail=detail.clone() />
        {detail.image.clone().map(|image| view! { <ImagePanel image /> })}
        <DeployPanel detail=detail.clone() live />
        {move || view! { <StackLiveView live=live.get() /> }}
        {next_section(section).map(|next| view! {
            <Show when=move || live.with(|live| live.stack.is_ready())>
                <p class="next-step">
                    <a class="button" href=section_href(next) data-testid="next-step">
                        {format!("Next: {}. {}", next.number(), next.title())}
                    </a>
                </p>
            </Show>
        })}
        <DeleteSectionPanel section prefix=detail.prefix.clone() stack_name=detail.stack_name.clone() live />
    }
}

/// The section after `section` in the lab's order, if any.
fn next_section(section: LabSection) -> Option<LabSection> {
    LabSection::ALL.iter().skip_while(|s| **s != section).nth(1).copied()
}

/// Deleting this section's stack alone: how a failed section (a create that
/// rolled back cannot be updated) is retried without losing the others.
/// Two clicks: deleting cannot be undone.
#[component]
fn DeleteSectionPanel(
    section: LabSection,
    prefix: String,
    stack_name: String,
    live: RwSignal<SectionLive>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteSection>::new();
    let asked = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(now)) = delete.value().get() {
            live.set(now);
            asked.set(false);
        }
    });
    let deletable = move || live.with(|live| live.stack.exists() && !live.stack.in_progress());
    let failed = move || {
        live.with(|live| {
            live.stack
                .status
                .as_deref()
                .is_some_and(|status| status.contains("ROLLBACK") || status.ends_with("_FAILED"))
        })
    };
    // Shown, hidden and shown again: the texts are kept, not moved.
    let button_label = StoredValue::new(format!("Delete {stack_name}"));
    let warning = StoredValue::new(format!("{stack_name} and its resources will be deleted."));
    let prefix = StoredValue::new(prefix);
    view! {
        <Show when=deletable>
            <section class="panel" aria-label="Delete this section">
                <h2>"Delete this section's stack"</h2>
                <p class="hint">
                    {move || if failed() {
                        "This stack failed; CloudFormation cannot update it. Delete it, then preview and deploy again: \
                         the other sections stay as they are."
                    } else {
                        "Removes this section's stack only (later sections must be deleted first). Teardown removes the whole lab."
                    }}
                </p>
                <Show
                    when=move || asked.get()
                    fallback=move || view! {
                        <button type="button" class="button button-danger" on:click=move |_| asked.set(true)>
                            {button_label.get_value()}
                        </button>
                    }
                >
                    <p role="alert">{warning.get_value()}</p>
                    <button
                        type="button"
                        class="button button-danger"
                        disabled=move || delete.pending().get()
                        on:click=move |_| {
                            let request = SectionRequest { section, prefix: Some(prefix.get_value()) };
                            delete.dispatch(DeleteSection { request });
                        }
                    >
                        "Yes, delete it"
                    </button>
                    <button type="button" class="button" on:click=move |_| asked.set(false)>"Cancel"</button>
                </Show>
                {move || delete.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
            </section>
        </Show>
    }
}

#[component]
fn ResourcesPanel(detail: SectionDetail) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"What this section creates"</h2>
            {detail.description.map(|description| view! { <p>{description}</p> })}
            <table class="table" aria-label="Resources">
                <thead><tr><th>"Resource"</th><th>"Type"</th><th>"What it is for"</th></tr></thead>
                <tbody>
                    {detail.resources.into_iter().map(|resource| view! {
                        <tr>
                            <td>{resource.logical_id}</td>
                            <td><code>{resource.resource_type}</code></td>
                            <td>{resource.purpose}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ImagePanel(image: ImageStatus) -> impl IntoView {
    let presence = match (image.image_present, &image.repository_name) {
        (Some(true), _) => "An image is in the repository.",
        (Some(false), _) => "The repository holds no image yet.",
        (None, Some(_)) => "Keywatch could not ask ECR whether an image is present; its log says why.",
        (None, None) => "Not known yet: the repository comes with the base network.",
    };
    view! {
        <section class="panel" aria-label="Application image">
            <h2>"Application image"</h2>
            <dl class="facts">
                <dt>"Repository"</dt>
                <dd><code>{image.repository_uri.clone().unwrap_or_else(|| "not created yet".to_owned())}</code></dd>
                <dt>"Image"</dt>
                <dd data-testid="image-present">{presence}</dd>
            </dl>
            {image.sandbox.then(|| view! {
                <p class="banner banner-sandbox">
                    "On the sandbox no push is needed: the application runs the workload built into Keywatch."
                </p>
            })}
            {(!image.push_commands.is_empty()).then(|| view! {
                <p>"To build and push the workload's image from a checkout of Keywatch:"</p>
                <pre class="commands" aria-label="Push commands"><code>{image.push_commands.join("\n")}</code></pre>
            })}
        </section>
    }
}

/// One form field's state.
#[derive(Clone)]
struct FieldState {
    field: ParameterField,
    value: RwSignal<String>,
}

#[component]
fn DeployPanel(detail: SectionDetail, live: RwSignal<SectionLive>) -> impl IntoView {
    let section = detail.section;
    let prefix = RwSignal::new(detail.prefix.clone());
    let fields: Vec<FieldState> = detail
        .fields
        .iter()
        .map(|field| FieldState { field: field.clone(), value: RwSignal::new(field.value.clone()) })
        .collect();
    let fields = StoredValue::new(fields);
    let preview = ServerAction::<PreviewSection>::new();
    let deploy = ServerAction::<DeploySection>::new();
    // Set when Deploy succeeds: keep polling until that deployment ends.
    let following = RwSignal::new(None::<i64>);

    let prefix_error = move || Prefix::parse(&prefix.get()).err().map(|error| error.to_string());
    // The domain crate checks values exactly as the server (and
    // CloudFormation) will, against the declarations the server sent.
    let field_error = move |key: &str, value: &str| {
        fields.with_value(|fields| {
            let field = &fields.iter().find(|f| f.field.key == key)?.field;
            if let Err(error) = check_parameter_value(key, &field.declaration, value) {
                return Some(error.message());
            }
            // Rules between fields (the lab alarm's, as the Alarms page
            // checks them), once each field is right by itself.
            let values: Vec<(String, String)> = fields.iter().map(|f| (f.field.key.clone(), f.value.get())).collect();
            keywatch_domain::lab_alarms::lab_alarm_errors(&values)
                .into_iter()
                .find(|error| error.field == key)
                .map(|error| error.message)
        })
    };
    let server_error =
        move || preview.value().get().and_then(Result::err).or_else(|| deploy.value().get().and_then(Result::err));
    let server_field_error = move |key: &str| match server_error() {
        Some(AppError::InvalidInput { field: Some(field), message }) if field == key => Some(message),
        _ => None,
    };
    let form_valid = move || {
        prefix_error().is_none()
            && fields.with_value(|fields| fields.iter().all(|f| field_error(&f.field.key, &f.value.get()).is_none()))
    };

    let on_preview = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        // Nothing is sent while a field is invalid; the messages are already beside them.
        if !form_valid() {
            return;
        }
        deploy.clear();
        let parameters = fields.with_value(|fields| {
            fields.iter().map(|f| (f.field.key.clone(), f.value.get_untracked())).collect::<Vec<_>>()
        });
        preview.dispatch(PreviewSection {
            request: PreviewRequest { section, prefix: prefix.get_untracked().trim().to_owned(), parameters },
        });
    };

    // Poll while CloudFormation works. Effects run only in the browser, so
    // the server never starts a timer.
    let poll_prefix = prefix;
    let idle_ticks = StoredValue::new(0_u32);
    Effect::new(move |_| {
        let tick = move || {
            let working = live.with_untracked(|live| {
                live.stack.in_progress() || live.deployment.as_ref().is_some_and(|d| d.outcome.is_none())
            }) || following.get_untracked().is_some();
            if !working {
                // Idle pages still look now and then, so a deployment started
                // in another browser shows up here too.
                idle_ticks.update_value(|ticks| *ticks = ticks.wrapping_add(1));
                if !idle_ticks.get_value().is_multiple_of(IDLE_POLL_TICKS) {
                    return;
                }
            }
            let typed = poll_prefix.get_untracked().trim().to_owned();
            // A prefix being typed that is not valid yet names no stack to
            // ask about (the server would only answer 400 again and again).
            if Prefix::parse(&typed).is_err() {
                return;
            }
            let request = SectionRequest { section, prefix: Some(typed) };
            leptos::task::spawn_local(async move {
                if let Ok(now) = get_section_live(request).await {
                    if let (Some(id), Some(deployment)) = (following.get_untracked(), now.deployment.as_ref())
                        && deployment.id == id
                        && deployment.outcome.is_some()
                    {
                        following.set(None);
                    }
                    live.set(now);
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(tick, POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(deployment)) = deploy.value().get() {
            following.set(Some(deployment.id));
            preview.clear();
        }
    });

    // One parameter's field: input or choice, its description, and the
    // message beside it.
    let field_view = move |state: FieldState| {
        let key = state.field.key.clone();
        let value = state.value;
        let error_key = key.clone();
        let error =
            Signal::derive(move || field_error(&error_key, &value.get()).or_else(|| server_field_error(&error_key)));
        view! {
            <ParameterField
                name=key.clone()
                id=format!("param-{key}")
                value
                allowed_values=state.field.allowed_values.clone()
                hint=state.field.description.clone()
                error
            />
        }
    };
    // A newcomer needs only the fields without a default (the logging
    // section's e-mail); the rest are folded under "Advanced" with the lab's
    // values, and open by themselves when one is refused.
    let (advanced, essential): (Vec<FieldState>, Vec<FieldState>) = fields
        .get_value()
        .into_iter()
        .partition(|state| state.field.default.is_some() && state.field.key != "EmailAddress");
    let advanced_keys: Vec<String> = advanced.iter().map(|state| state.field.key.clone()).collect();
    let advanced_ref = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        let refused = fields.with_value(|fields| {
            fields.iter().filter(|f| advanced_keys.contains(&f.field.key)).any(|f| {
                field_error(&f.field.key, &f.value.get()).is_some() || server_field_error(&f.field.key).is_some()
            })
        });
        if let (true, Some(details)) = (refused, advanced_ref.get()) {
            details.set_open(true);
        }
    });
    let wired = detail.wired.clone();
    let wiring_problem = detail.wiring_problem.clone();
    view! {
        <section class="panel" aria-label="Parameters">
            <h2>"Parameters"</h2>
            <form class="form-grid" on:submit=on_preview novalidate>
                <div class="field">
                    <label for="prefix">"Prefix"</label>
                    <input
                        id="prefix"
                        name="prefix"
                        type="text"
                        prop:value=move || prefix.get()
                        on:input=move |event| prefix.set(event_target_value(&event))
                        aria-invalid=move || prefix_error().is_some().to_string()
                        aria-describedby="prefix-error"
                    />
                    <p class="hint">"Names every stack and resource of the lab, e.g. pattern1-base."</p>
                    <p class="field-error" id="prefix-error" role="alert">
                        {move || prefix_error().or_else(|| server_field_error("prefix"))}
                    </p>
                </div>
                {essential.into_iter().map(field_view).collect_view()}
                {(!advanced.is_empty()).then(|| {
                    let count = advanced.len();
                    view! {
                        <details class="advanced" node_ref=advanced_ref>
                            <summary>{format!("Advanced settings ({count}, the lab's defaults)")}</summary>
                            {advanced.into_iter().map(field_view).collect_view()}
                        </details>
                    }
                })}                {(!wired.is_empty()).then(|| view! {
                    <div>
                        <h3>"Filled in by Keywatch"</h3>
                        <dl class="facts" aria-label="Wired parameters">
                            {wired.iter().map(|w| view! {
                                <dt>{w.key.clone()}</dt>
                                <dd><code>{w.value.clone()}</code></dd>
                            }).collect_view()}
                        </dl>
                    </div>
                })}
                {wiring_problem.map(|problem| view! { <p class="field-error">{problem}</p> })}
                <div class="actions">
                    <button type="submit" class="button" disabled=move || preview.pending().get()>
                        {move || if preview.pending().get() { "Computing the change set…" } else { "Preview changes" }}
                    </button>
                </div>
            </form>
        </section>
        {move || {
            let error = server_error().filter(|error| {
                !matches!(error, AppError::InvalidInput { field: Some(_), .. })
            });
            error.map(|error| view! { <ErrorPanel error /> })
        }}
        {move || preview.value().get().and_then(Result::ok).map(|outcome| view! {
            <PreviewPanel outcome section prefix=prefix.get_untracked() deploy />
        })}
    }
}

#[component]
fn PreviewPanel(
    outcome: PreviewOutcome,
    section: LabSection,
    prefix: String,
    deploy: ServerAction<DeploySection>,
) -> impl IntoView {
    match outcome {
        PreviewOutcome::NoChanges => view! {
            <section class="panel" aria-label="Preview">
                <h2>"Preview"</h2>
                <p data-testid="no-changes">"No changes: the stack already matches these values."</p>
            </section>
        }
        .into_any(),
        PreviewOutcome::Changes { change_set_id, update, changes } => {
            let summary = if update {
                format!("Updating the existing stack changes {} resource(s).", changes.len())
            } else {
                format!("Creating the stack adds {} resource(s).", changes.len())
            };
            let request = DeployRequest { section, prefix, change_set_id };
            view! {
                <section class="panel" aria-label="Preview">
                    <h2>"Preview"</h2>
                    <p data-testid="preview-summary">{summary}</p>
                    <table class="table" aria-label="Changes">
                        <thead><tr><th>"Action"</th><th>"Resource"</th><th>"Type"</th><th>"Replacement"</th></tr></thead>
                        <tbody>
                            {changes.into_iter().map(|change| view! {
                                <tr>
                                    <td>{change.action}</td>
                                    <td>{change.logical_id}</td>
                                    <td><code>{change.resource_type}</code></td>
                                    <td>{change.replacement.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="actions">
                        <button
                            type="button"
                            class="button"
                            disabled=move || deploy.pending().get()
                            on:click=move |_| {
                                deploy.dispatch(DeploySection { request: request.clone() });
                            }
                        >
                            {if update { "Deploy the update" } else { "Deploy" }}
                        </button>
                    </div>
                </section>
            }
            .into_any()
        }
    }
}
