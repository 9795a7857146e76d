//! The wizard's overview: where the whole lab stands, each stack's status
//! at a glance, and where to go next.

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;

use super::section_href;
use crate::api::lab::{LabOverview, get_lab_overview};
use crate::components::feedback::ErrorPanel;
use crate::components::stack::StackStatusBadge;

/// The `/lab` page.
#[component]
pub fn LabOverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_lab_overview());
    view! {
        <h1>"Set up the lab"</h1>
        <p>
            "Deploy the lab's three CloudFormation stacks in order. Each section shows what it creates, \
             previews the change set, and follows the deployment live."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading the lab's stacks…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewTable overview /> }.into_any(),
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
