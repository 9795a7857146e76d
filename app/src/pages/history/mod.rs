//! The History page: the managed alarms' states over time, their history
//! items filtered through the URL and paged server-side, each state change
//! opened with its reason, datapoints and notifications; CSV export and the
//! retention setting.

use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::history::{
    HistoryEntry, HistoryFilter, HistoryPageInput, SetHistoryRetention, StateChangeInput, TimelineInput,
    get_history_page, get_history_retention, get_state_change, get_timeline,
};
use crate::components::chart::{DatapointChart, TimelineChart};
use crate::components::feedback::ErrorPanel;
use crate::pages::subscribers::refresh_tick;

/// How often the newest page asks for new entries.
const REFRESH_MS: u64 = 3_000;

/// The filter and page position in the URL query.
fn filter_from_query() -> Memo<(HistoryFilter, Option<String>)> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let filter = HistoryFilter {
                alarm: q.get("alarm"),
                state: q.get("state"),
                item_type: q.get("item_type"),
                from: q.get("from"),
                to: q.get("to"),
                text: q.get("text"),
            }
            .normalized();
            (filter, q.get("after").filter(|a| !a.is_empty()))
        })
    })
}

/// `?a=b&c=d` of `pairs`, URL-encoded.
fn query_string(pairs: &[(&str, String)]) -> String {
    let encoded: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
    if encoded.is_empty() { String::new() } else { format!("?{}", encoded.join("&")) }
}

/// Everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// The History page.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let current = filter_from_query();
    let tick = refresh_tick(REFRESH_MS);
    // Only the newest page refreshes: older pages do not change.
    let refresh = move || if current.with(|(_, after)| after.is_none()) { tick.get() } else { 0 };
    let page = Resource::new(
        move || (current.get(), refresh()),
        |((filter, after), _)| get_history_page(HistoryPageInput { filter, after }),
    );
    let timeline =
        Resource::new(move || (current.get().0, refresh()), |(filter, _)| get_timeline(TimelineInput { filter }));

    view! {
        <h1>"History"</h1>
        <p class="hint">
            "What happened to the managed alarms, from CloudWatch's alarm history and the notifications SNS \
             delivered to Keywatch's inbox queue. New entries appear by themselves."
        </p>
        <section class="panel" aria-label="Timeline">
            <h2>"States over time"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading the timeline…"</p> }>
                {move || Suspend::new(async move {
                    match timeline.await {
                        Ok(timeline) => view! { <TimelineChart timeline /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="panel" aria-label="Entries">
            {move || view! { <FilterForm filter=current.get().0 /> }}
            <Transition fallback=|| view! { <p class="loading">"Loading history…"</p> }>
                {move || Suspend::new(async move {
                    let (filter, _) = current.get_untracked();
                    match page.await {
                        Ok(page) => {
                            let older = page.next.map(|cursor| {
                                let mut pairs = filter.query_pairs();
                                pairs.push(("after", cursor.encode()));
                                format!("/history{}", query_string(&pairs))
                            });
                            let newest = format!("/history{}", query_string(&filter.query_pairs()));
                            view! {
                                <EntriesTable entries=page.entries />
                                <nav class="pager" aria-label="Pages">
                                    <A href=newest>"Newest"</A>
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
        <RetentionPanel />
    }
}

#[component]
fn FilterForm(filter: HistoryFilter) -> impl IntoView {
    let csv = format!("/history.csv{}", query_string(&filter.query_pairs()));
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    let state_options = ["OK", "ALARM", "INSUFFICIENT_DATA"]
        .map(|s| view! { <option value=s selected=selected(&filter.state, s)>{s}</option> });
    let type_options = ["StateUpdate", "Action", "ConfigurationUpdate"]
        .map(|t| view! { <option value=t selected=selected(&filter.item_type, t)>{t}</option> });
    view! {
        <Form method="GET" action="/history">
            <div class="form-row">
                <label>"Alarm" <input type="text" name="alarm" value=filter.alarm.clone().unwrap_or_default() /></label>
                // Labels point at their selects so the options are not part of the name.
                <div class="field">
                    <label for="history-state">"State"</label>
                    <select id="history-state" name="state">
                        <option value="">"Any"</option>
                        {state_options}
                    </select>
                </div>
                <div class="field">
                    <label for="history-item-type">"Type"</label>
                    <select id="history-item-type" name="item_type">
                        <option value="">"Any"</option>
                        {type_options}
                    </select>
                </div>
                <label>"From (UTC)" <input type="datetime-local" name="from" value=filter.from.clone().unwrap_or_default() /></label>
                <label>"To (UTC)" <input type="datetime-local" name="to" value=filter.to.clone().unwrap_or_default() /></label>
                <label>"Text" <input type="search" name="text" value=filter.text.clone().unwrap_or_default() /></label>
                <button type="submit" class="button">"Apply filters"</button>
                <a href=csv rel="external" download="alarm-history.csv">"Export CSV"</a>
            </div>
        </Form>
    }
}

#[component]
fn EntriesTable(entries: Vec<HistoryEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty">"No history matches. The poller stores new items every few seconds."</p> }
            .into_any();
    }
    view! {
        <table class="table" aria-label="Alarm history">
            <thead>
                <tr><th>"When (UTC)"</th><th>"Alarm"</th><th>"Type"</th><th>"Summary"</th><th>"Notifications"</th></tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|entry| view! {
                        <tr>
                            <td>{readable(&entry.timestamp)}</td>
                            <td>{entry.alarm_name}</td>
                            <td>{entry.item_type}</td>
                            <td><A href=format!("/history/{}", entry.id)>{entry.summary}</A></td>
                            <td>{entry.notification_count}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RetentionPanel() -> impl IntoView {
    let set = ServerAction::<SetHistoryRetention>::new();
    let retention = Resource::new(move || set.version().get(), |_| get_history_retention());
    view! {
        <section class="panel" aria-label="Retention">
            <h2>"Retention"</h2>
            <p class="hint">"AWS keeps alarm history for 14 days; Keywatch keeps what it stored for as long as you choose."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match retention.await {
                        Ok(retention) => {
                            let current = retention.keep_days.map_or_else(
                                || "Keeping everything.".to_owned(),
                                |days| format!("Keeping {days} days."),
                            );
                            view! {
                                <p data-testid="retention">{current}</p>
                                <ActionForm action=set>
                                    <div class="form-row">
                                        <label>
                                            "Days to keep (empty keeps everything)"
                                            <input type="number" name="input[keep_days]"
                                                value=retention.keep_days.map(|d| d.to_string()).unwrap_or_default() />
                                        </label>
                                        <button type="submit" class="button">"Save retention"</button>
                                    </div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            {move || set.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
    }
}

/// One state change opened: `/history/<id>`.
#[component]
pub fn StateChangePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let tick = refresh_tick(REFRESH_MS);
    let detail = Resource::new(
        move || (id(), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_state_change(StateChangeInput { id }).await,
                None => Err(crate::error::AppError::NotFound("That history item".into())),
            }
        },
    );
    view! {
        <p><A href="/history">"← History"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let entry = detail.entry;
                        let notifications = detail.notifications;
                        view! {
                            <h1>{entry.summary.clone()}</h1>
                            <dl class="facts">
                                <dt>"Alarm"</dt><dd>{entry.alarm_name.clone()}</dd>
                                <dt>"When (UTC)"</dt><dd>{readable(&entry.timestamp)}</dd>
                                <dt>"Type"</dt><dd>{entry.item_type.clone()}</dd>
                                <dt>"Reason"</dt><dd data-testid="reason">{detail.reason.unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                            {(!detail.datapoints.is_empty()).then(|| view! {
                                <h2>"Datapoints"</h2>
                                <DatapointChart datapoints=detail.datapoints.clone() threshold=detail.threshold period_seconds=detail.period_seconds />
                            })}
                            <h2>"Notifications delivered"</h2>
                            {if notifications.is_empty() {
                                view! { <p class="empty">"No notification has reached Keywatch's inbox for this change."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="table" aria-label="Notifications delivered">
                                        <thead><tr><th>"Received (UTC)"</th><th>"Subject"</th><th>"Topic"</th><th>"Message"</th></tr></thead>
                                        <tbody>
                                            {notifications.into_iter().map(|n| view! {
                                                <tr>
                                                    <td>{readable(&n.received_at)}</td>
                                                    <td>{n.subject.unwrap_or_default()}</td>
                                                    <td><code>{n.topic_arn}</code></td>
                                                    <td><details><summary>{n.message_id}</summary><pre class="body">{n.message}</pre></details></td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <details>
                                <summary>"HistoryData"</summary>
                                <pre class="body">{detail.history_data}</pre>
                            </details>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `2026-11-26T22:10:05.123Z` as `2026-11-26 22:10:05`.
fn readable(rfc3339: &str) -> String {
    rfc3339.get(..19).map_or_else(|| rfc3339.to_owned(), |prefix| prefix.replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_percent_encoded() {
        assert_eq!(query_string(&[]), "");
        assert_eq!(
            query_string(&[("alarm", "pattern1 alarm".into()), ("from", "2026-11-27T03:50".into())]),
            "?alarm=pattern1%20alarm&from=2026-11-27T03%3A50"
        );
    }
}
