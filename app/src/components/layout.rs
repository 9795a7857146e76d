//! The console's frame: header with the connection mode, navigation through
//! the lab's sections, and the page body.

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::connection::{AwsMode, get_console_settings};
use crate::api::session::get_session_info;
use crate::components::aws_status::AwsStatusPanel;

/// Bumped when the console switches Region or profile, so everything that
/// shows the connection reads it again.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionVersion(pub RwSignal<u32>);

/// Wraps every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let version = RwSignal::new(0_u32);
    provide_context(ConnectionVersion(version));
    let settings = Resource::new(move || version.get(), |_| get_console_settings());
    let session = OnceResource::new(get_session_info());
    view! {
        <div class="shell">
            <header class="topbar">
                <a class="brand" href="/">"Keywatch"</a>
                <span class="tagline">"Autonomous monitoring of KMS activity"</span>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        settings.await.ok().map(|settings| {
                            let (class, label) = match settings.mode {
                                AwsMode::Sandbox => ("mode mode-sandbox", format!("Sandbox · {}", settings.region)),
                                AwsMode::Live => ("mode mode-live", format!("Live AWS · {}", settings.region)),
                            };
                            view! { <span class=class data-testid="mode-badge">{label}</span> }
                        })
                    })}
                </Transition>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move { session.await.ok().map(|session| view! { <SessionBar session /> }) })}
                </Suspense>
            </header>

            <nav class="sidebar" aria-label="Sections">
                <ul>
                    <li><A href="/" exact=true>"Connection"</A></li>
                    <li><A href="/subscribers">"Subscribers"</A></li>
                    <li><A href="/history">"History"</A></li>
                    <li><A href="/audit">"Audit log"</A></li>
                    <li><A href="/alarms">"Alarms"</A></li>
                    <li><A href="/responses">"Responses"</A></li>
                </ul>
                <p class="nav-heading">"The lab"</p>
                <ul>
                    <li><A href="/lab" exact=true>"Overview"</A></li>
                </ul>
                <ol class="lab-sections">
                    {LabSection::ALL
                        .iter()
                        .map(|section| view! {
                            <li><A href=format!("/lab/{}", section.slug())>{section.title()}</A></li>
                        })
                        .collect_view()}
                </ol>
                <ul>
                    <li><A href="/lab/teardown">"Teardown"</A></li>
                </ul>
            </nav>
            <main class="content">
                <AwsStatusPanel/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        session.await.ok().filter(|session| !session.password_required).map(|_| view! { <NoPasswordBanner /> })
                    })}
                </Suspense>
                {children()}
            </main>
        </div>
    }
}

/// The logged-in user and the logout button (a plain form: it works before
/// hydration, and the cross-site check covers it like every POST).
#[component]
fn SessionBar(session: crate::api::session::SessionInfo) -> impl IntoView {
    session.user.map(|user| {
        view! {
            <form class="session" method="post" action="/logout">
                <span class="session-user">{format!("Signed in as {user}")}</span>
                <button type="submit" class="button button-secondary">"Log out"</button>
            </form>
        }
    })
}

/// Said on every page of a console running without a password.
#[component]
fn NoPasswordBanner() -> impl IntoView {
    view! {
        <div class="banner banner-warning" role="status" data-testid="no-password-banner">
            "No password is set: this console answers anyone who can reach its loopback address \
             without asking who they are. Set one with "
            <code>"keywatch user set-password"</code>
            " to require a login (and to listen beyond loopback)."
        </div>
    }
}
