//! The wizard's overview: where the whole lab stands, each stack's status
//! at a glance, where to go next, and the labs deployed by hand that the
//! account holds, each with an Adopt button.

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;

use super::section_href;
use crate::api::lab::{AdoptLab, FoundLab, LabOverview, get_lab_overview};
use crate::components::feedback::ErrorPanel;
use crate::components::stack::StackStatusBadge;

/// The `/lab` page.
#[component]
pub fn LabOverviewPage() -> impl IntoView {
    let adopt = ServerAction::<AdoptLab>::new();
    // Adopting changes the current lab: read the overview again after it.
    let overview = Resource::new(move || adopt.version().get(), |_| get_lab_overview());
    view! {
        <h1>"Set up the lab"</h1>
        <p>
            "Deploy the lab's three CloudFormation stacks in order. Each section shows what it creates, \
             previews the change set, and follows the deployment live."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading the lab's stacks…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let found = overview.found.clone();
                        view! {
                            <OverviewTable overview />
                            <FoundLabs found adopt />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewTable(overview: LabOverview) -> impl IntoView {
    view! {
        <section class="panel">
            <p>"Prefix: " <code data-testid="lab-prefix">{overview.prefix.clone()}</code></p>
            {overview.adopted.then(|| view! {
                <p data-testid="lab-adopted">
                    "Adopted: this lab was deployed by hand. Its stacks keep their own names and templates; \
                     Keywatch manages its alarm, subscribers and history, changes thresholds through its \
                     logging stack, and tears it down."
                </p>
            })}
            <table class="table" aria-label="Lab stacks">
                <thead><tr><th>"Section"</th><th>"Stack"</th><th>"Status"</th></tr></thead>
                <tbody>
                    {overview.sections.into_iter().map(|status| view! {
                        <tr>
                            <td>
                                <a href=section_href(status.section)>
                                    {format!("{}. {}", status.section.number(), status.section.title())}
                                </a>
                            </td>
                            <td><code>{status.stack.stack_name.clone()}</code></td>
                            <td><StackStatusBadge stack=status.stack /></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p>
                <a href=section_href(LabSection::Testing)>
                    {format!("{}. {}", LabSection::Testing.number(), LabSection::Testing.title())}
                </a>
                ": encrypt and decrypt through the application, then attack it and watch the alarm fire."
            </p>
            <p><a href="/lab/teardown">"Tear the lab down"</a></p>
        </section>
    }
}

/// The labs deployed by hand that Keywatch found, recognised by what their
/// stacks contain, each with its Adopt form.
#[component]
fn FoundLabs(found: Vec<FoundLab>, adopt: ServerAction<AdoptLab>) -> impl IntoView {
    if found.is_empty() {
        return ().into_any();
    }
    let cell = |name: Option<String>| match name {
        Some(name) => view! { <code>{name}</code> }.into_any(),
        None => view! { <span>"none"</span> }.into_any(),
    };
    view! {
        <section class="panel" aria-labelledby="found-labs">
            <h2 id="found-labs">"Labs deployed by hand"</h2>
            <p>
                "These stacks hold the lab (recognised by their resources and outputs, whatever their names) \
                 but were not deployed by Keywatch. Adopt one to manage its alarm, history, subscribers and \
                 thresholds here, and to tear it down in the right order."
            </p>
            <ErrorOf adopt />
            <table class="table" aria-label="Labs found in this account">
                <thead>
                    <tr><th>"Base network"</th><th>"Application"</th><th>"Logging and alarm"</th><th></th></tr>
                </thead>
                <tbody>
                    {found.into_iter().map(|lab| {
                        let label = format!("Adopt {}", lab.logging.clone().or(lab.application.clone()).or(lab.base.clone()).unwrap_or_default());
                        view! {
                            <tr>
                                <td>{cell(lab.base.clone())}</td>
                                <td>{cell(lab.application.clone())}</td>
                                <td>{cell(lab.logging.clone())}</td>
                                <td>
                                    <ActionForm action=adopt attr:class="inline-form">
                                        <input type="hidden" name="request[base]" value=lab.base.unwrap_or_default() />
                                        <input type="hidden" name="request[application]" value=lab.application.unwrap_or_default() />
                                        <input type="hidden" name="request[logging]" value=lab.logging.unwrap_or_default() />
                                        <button type="submit" aria-label=label>"Adopt"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// The adoption's refusal, if the last one failed.
#[component]
fn ErrorOf(adopt: ServerAction<AdoptLab>) -> impl IntoView {
    move || match adopt.value().get() {
        Some(Err(error)) => view! { <ErrorPanel error /> }.into_any(),
        _ => ().into_any(),
    }
}
