//! The console's frame: header with the connection mode, navigation through
//! the lab's sections, and the page body.

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::connection::{AwsMode, get_console_settings};

/// Wraps every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let settings = OnceResource::new(get_console_settings());
    view! {
        <div class="shell">
            <header class="topbar">
                <a class="brand" href="/">"Keywatch"</a>
                <span class="tagline">"Autonomous monitoring of KMS activity"</span>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        settings.await.ok().map(|settings| {
                            let (class, label) = match settings.mode {
                                AwsMode::Sandbox => ("mode mode-sandbox", "Sandbox".to_owned()),
                                AwsMode::Live => ("mode mode-live", format!("Live AWS · {}", settings.region)),
                            };
                            view! { <span class=class data-testid="mode-badge">{label}</span> }
                        })
                    })}
                </Suspense>
            </header>
            <nav class="sidebar" aria-label="Sections">
                <ul>
                    <li><A href="/">"Connection"</A></li>
                    <li><A href="/subscribers">"Subscribers"</A></li>
                    <li><A href="/history">"History"</A></li>
                    <li><A href="/alarms">"Alarms"</A></li>
                </ul>
                <p class="nav-heading">"The lab"</p>
                <ul>
                    <li><A href="/lab">"Overview"</A></li>
                </ul>
                <ol class="lab-sections">
                    {LabSection::ALL
                        .iter()
                        .map(|section| match section.stack_suffix() {
                            Some(_) => view! {
                                <li><A href=format!("/lab/{}", section.slug())>{section.title()}</A></li>
                            }
                            .into_any(),
                            // Testing deploys no stack; its page comes with its own issue.
                            None => view! {
                                <li class="planned" title="This section's page is not built yet">
                                    {section.title()}
                                </li>
                            }
                            .into_any(),
                        })
                        .collect_view()}
                </ol>
                <ul>
                    <li><A href="/lab/teardown">"Teardown"</A></li>
                </ul>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}
