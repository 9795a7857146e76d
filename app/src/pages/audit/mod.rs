//! The Audit log page: every mutation made through the console, newest
//! first, a page at a time (`/audit?before=<id>` for older pages).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::audit::{AuditPageInput, AuditRecord, get_audit_page};
use crate::components::feedback::ErrorPanel;

/// The Audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    // A `before` that is not a number shows the newest page rather than an error.
    let before = Memo::new(move |_| query.with(|q| q.get("before").and_then(|text| text.parse::<i64>().ok())));
    let page = Resource::new(move || before.get(), |before| get_audit_page(AuditPageInput { before }));
    view! {
        <h1>"Audit log"</h1>
        <p class="hint">
            "Every change made through this console — deployments, teardowns, thresholds, subscribers, \
             retention, attack simulations, logins — with who made it and how it ended."
        </p>
        <section class="panel" aria-label="Audit records">
            <Transition fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let older = page.next_before.map(|id| format!("/audit?before={id}"));
                            view! {
                                <AuditTable records=page.records />
                                <nav class="pager" aria-label="Pages">
                                    <A href="/audit">"Newest"</A>
                                    {older.map(|href| view! { <A href=href>"Older"</A> })}
                                </nav>
                            }
                            .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditTable(records: Vec<AuditRecord>) -> impl IntoView {
    if records.is_empty() {
        return view! { <p class="empty">"Nothing has been changed through the console yet."</p> }.into_any();
    }
    view! {
        <table class="table" aria-label="Audit log">
            <thead>
                <tr>
                    <th>"When (UTC)"</th>
                    <th>"User"</th>
                    <th>"Action"</th>
                    <th>"Target"</th>
                    <th>"Outcome"</th>
                    <th>"Detail"</th>
                </tr>
            </thead>
            <tbody>
                {records
                    .into_iter()
                    .map(|record| {
                        let outcome_class = format!("outcome outcome-{}", record.outcome);
                        view! {
                            <tr>
                                <td>{record.at.get(..19).map_or_else(|| record.at.clone(), |at| at.replace('T', " "))}</td>
                                <td>{record.user}</td>
                                <td><code>{record.action}</code></td>
                                <td class="wrap">{record.target}</td>
                                <td><span class=outcome_class>{record.outcome}</span></td>
                                <td class="wrap">{record.detail.unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
