//! Keywatch's user interface: a Leptos app rendered on the server (feature
//! `ssr`) and hydrated in the browser (feature `hydrate`).
//!
//! Pages call `#[server]` functions in [`api`]; those reach AWS and SQLite
//! only through the backend the server crate provides.

pub mod api;
pub mod components;
pub mod csp;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use components::layout::Layout;
use pages::alarms::{AlarmPage, AlarmsPage, PatternTesterPage};
use pages::audit::AuditPage;
use pages::connection::ConnectionPage;
use pages::history::{HistoryPage, StateChangePage};
use pages::lab::overview::LabOverviewPage;
use pages::lab::section::SectionPage;
use pages::lab::teardown::TeardownPage;
use pages::lab::testing::TestingPage;
use pages::not_found::NotFound;
use pages::responses::ResponsesPage;
use pages::subscribers::SubscribersPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    csp::send_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                // The bundle's names carry content hashes in a cargo-leptos
                // build, so the server can let browsers cache it for good.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app's root: metadata, routes and the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Keywatch" />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    // Async: the page arrives complete, so it works before (or without)
                    // hydration; its data is a local SQLite read.
                    <Route path=StaticSegment("") view=ConnectionPage ssr=SsrMode::Async />
                    // The wizard's pages also arrive complete: stack status,
                    // resources and events are readable before hydration.
                    <Route path=StaticSegment("lab") view=LabOverviewPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("lab"), StaticSegment("teardown"))
                        view=TeardownPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("lab"), StaticSegment("testing"))
                        view=TestingPage
                        ssr=SsrMode::Async
                    />
                    <Route path=(StaticSegment("lab"), ParamSegment("section")) view=SectionPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("subscribers") view=SubscribersPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("history") view=HistoryPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("history"), ParamSegment("id"))
                        view=StateChangePage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("responses") view=ResponsesPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("alarms") view=AlarmsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("alarms"), StaticSegment("edit")) view=AlarmPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("alarms"), StaticSegment("pattern-tester"))
                        view=PatternTesterPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Layout>
        </Router>
    }
}
