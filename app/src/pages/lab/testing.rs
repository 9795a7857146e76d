//! The Testing page (`/lab/testing`, lab section 4): a round trip through
//! the deployed application with each request and response shown; a
//! simulated attack (wrong-key decrypts at R a second) that runs on the
//! server, so a reload or a second browser sees the same run; and beside it
//! the live view of the alarm's metric, state and notification with the
//! measured time-to-detect. The page polls every second, as the wizard does.

use std::time::Duration;

use keywatch_domain::attack;
use leptos::prelude::*;

use super::section_href;
use crate::api::attack::{
    AlarmView, AttackRequest, AttackRunView, HttpExchange, RoundTripRequest, RunRoundTrip, StartAttack, StopAttack,
    StopRequest, TestingLive, TestingOverview, get_testing_live, get_testing_overview,
};
use crate::components::chart::{ChartState, MetricChart};
use crate::components::feedback::ErrorPanel;
use crate::error::AppError;

/// How often the page asks for the run, the metric and the alarm.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The `/lab/testing` page.
#[component]
pub fn TestingPage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |_| async move {
            let overview = get_testing_overview().await?;
            let live = get_testing_live().await?;
            Ok::<_, AppError>((overview, live))
        },
    );
    view! {
        <h1>"4. Testing"</h1>
        <p>
            "Check the application works, then attack it with a wrong key and watch the monitoring react: \
             CloudTrail records each failed KMS call, the metric filter counts it, the alarm compares the \
             count with its threshold and notifies its SNS topic."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading the lab's application and alarm…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((overview, live)) => view! { <TestingView overview live /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TestingView(overview: TestingOverview, live: TestingLive) -> impl IntoView {
    if !overview.missing_prerequisites.is_empty() {
        return view! {
            <section class="panel panel-error" aria-label="Prerequisites">
                <h2>"Deploy the lab's stacks first"</h2>
                <p>"The Testing section needs the application and its alarm. Not deployed yet:"</p>
                <ul>
                    {overview.missing_prerequisites.iter().map(|missing| view! {
                        <li><a href=section_href(*missing)>{format!("{}. {}", missing.number(), missing.title())}</a></li>
                    }).collect_view()}
                </ul>
            </section>
        }
        .into_any();
    }
    let live = RwSignal::new(live);
    // Effects run only in the browser, so the server never starts a timer.
    let in_flight = StoredValue::new(false);
    Effect::new(move |_| {
        let tick = move || {
            // A slow answer must not pile up requests behind it.
            if in_flight.get_value() {
                return;
            }
            in_flight.set_value(true);
            leptos::task::spawn_local(async move {
                if let Ok(now) = get_testing_live().await {
                    live.set(now);
                }
                in_flight.set_value(false);
            });
        };
        if let Ok(handle) = set_interval_with_handle(tick, POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <FactsPanel overview=overview.clone() />
        {overview.live_aws.then(|| view! {
            <p class="banner banner-live" data-testid="cloudtrail-delay">
                "On live AWS, CloudTrail delivers each KMS call to CloudWatch Logs minutes after it happens \
                 (typically about 5, up to 15), so the alarm follows only then. A run keeps watching for that long."
            </p>
        })}
        <RoundTripPanel />
        <div class="testing-grid">
            <AttackPanel overview=overview.clone() live />
            <LivePanel live />
        </div>
        <RunsTable live />
    }
    .into_any()
}

/// The alarm's rule in one line, e.g. `Sum > 1 over 10 s, 1 of 1 periods`.
fn alarm_rule(alarm: &AlarmView) -> String {
    let symbol = match alarm.comparison_operator.as_str() {
        "GreaterThanThreshold" => ">",
        "GreaterThanOrEqualToThreshold" => ">=",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        other => other,
    };
    format!(
        "{} {symbol} {} over {} s, {} of {} periods",
        alarm.statistic.as_deref().unwrap_or("percentile"),
        alarm.threshold,
        alarm.period_seconds,
        alarm.datapoints_to_alarm.unwrap_or(alarm.evaluation_periods),
        alarm.evaluation_periods
    )
}

#[component]
fn FactsPanel(overview: TestingOverview) -> impl IntoView {
    view! {
        <section class="panel" aria-label="The lab's application">
            <h2>"What is tested"</h2>
            <dl class="facts">
                <dt>"Application endpoint"</dt>
                <dd><code data-testid="endpoint">{overview.endpoint.clone().unwrap_or_default()}</code></dd>
                <dt>"Application key"</dt>
                <dd><code data-testid="key-id">{overview.key_id.clone().unwrap_or_default()}</code></dd>
                <dt>"Alarm"</dt>
                <dd>
                    {overview.alarm.as_ref().map(|alarm| view! {
                        <code>{alarm.alarm_name.clone()}</code>
                        " — "
                        <span data-testid="alarm-rule">{alarm_rule(alarm)}</span>
                        {format!(" on {} / {}", alarm.namespace, alarm.metric_name)}
                    })}
                </dd>
            </dl>
        </section>
    }
}

/// One request and its response, as sent and received.
#[component]
fn ExchangeView(title: &'static str, exchange: HttpExchange) -> impl IntoView {
    let status = exchange.status.map_or_else(|| "no answer".to_owned(), |status| status.to_string());
    let ok = exchange.status.is_some_and(|status| (200..300).contains(&status));
    view! {
        <div class="exchange" role="group" aria-label=title>
            <h3>{title}</h3>
            <p class="hint">"Request"</p>
            <pre class="http" data-testid="request">
                {format!("{} {}\nContent-Type: application/json\n\n{}", exchange.method, exchange.url, exchange.request_body)}
            </pre>
            <p class="hint">
                "Response "
                <span class=if ok { "status status-ok" } else { "status status-failed" } data-testid="response-status">
                    {status}
                </span>
            </p>
            <pre class="http" data-testid="response-body">{exchange.response_body}</pre>
        </div>
    }
}

#[component]
fn RoundTripPanel() -> impl IntoView {
    let name = RwSignal::new("Bob".to_owned());
    let text = RwSignal::new("Run your own race".to_owned());
    let action = ServerAction::<RunRoundTrip>::new();
    let name_error = move || name.with(|name| name.trim().is_empty().then_some("a name is required".to_owned()));
    let text_error = move || text.with(|text| text.is_empty().then_some("some text to encrypt is required".to_owned()));
    let server_field_error = move |key: &str| match action.value().get().and_then(Result::err) {
        Some(AppError::InvalidInput { field: Some(field), message }) if field == key => Some(message),
        _ => None,
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if name_error().is_some() || text_error().is_some() {
            return;
        }
        action.dispatch(RunRoundTrip {
            request: RoundTripRequest { name: name.get_untracked(), text: text.get_untracked() },
        });
    };
    view! {
        <section class="panel" aria-label="Round trip">
            <h2>"Round trip"</h2>
            <p>"Encrypt a record (POST /encrypt), then decrypt it with the application's key (GET /decrypt)."</p>
            <form class="form-row" on:submit=on_submit novalidate>
                <div class="field">
                    <label for="rt-name">"Name"</label>
                    <input id="rt-name" type="text" prop:value=move || name.get()
                        on:input=move |event| name.set(event_target_value(&event))
                        aria-invalid=move || name_error().is_some().to_string() aria-describedby="rt-name-error" />
                    <p class="field-error" id="rt-name-error" role="alert">
                        {move || name_error().or_else(|| server_field_error("name"))}
                    </p>
                </div>
                <div class="field">
                    <label for="rt-text">"Data"</label>
                    <input id="rt-text" type="text" prop:value=move || text.get()
                        on:input=move |event| text.set(event_target_value(&event))
                        aria-invalid=move || text_error().is_some().to_string() aria-describedby="rt-text-error" />
                    <p class="field-error" id="rt-text-error" role="alert">
                        {move || text_error().or_else(|| server_field_error("text"))}
                    </p>
                </div>
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Sending…" } else { "Run the round trip" }}
                </button>
            </form>
            {move || action.value().get().map(|result| match result {
                Ok(result) => view! {
                    <p data-testid="round-trip-result" class=if result.passed { "notice" } else { "field-error" }>
                        {if result.passed {
                            "Passed: the text came back with the right key.".to_owned()
                        } else {
                            "Failed: the text did not come back; see the responses.".to_owned()
                        }}
                    </p>
                    <div class="exchanges">
                        <ExchangeView title="Encrypt" exchange=result.encrypt />
                        {result.decrypt.map(|decrypt| view! { <ExchangeView title="Decrypt" exchange=decrypt /> })}
                    </div>
                }.into_any(),
                Err(AppError::InvalidInput { field: Some(_), .. }) => ().into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn AttackPanel(overview: TestingOverview, live: RwSignal<TestingLive>) -> impl IntoView {
    let count = RwSignal::new(overview.default_count.unwrap_or(3).to_string());
    let rate = RwSignal::new(overview.default_rate.to_string());
    let start = ServerAction::<StartAttack>::new();
    let stop = ServerAction::<StopAttack>::new();
    let count_error = move || count.with(|count| attack::parse_count(count).err().map(|error| error.to_string()));
    let rate_error = move || rate.with(|rate| attack::parse_rate(rate).err().map(|error| error.to_string()));
    let server_error = move || start.value().get().and_then(Result::err);
    let server_field_error = move |key: &str| match server_error() {
        Some(AppError::InvalidInput { field: Some(field), message }) if field == key => Some(message),
        _ => None,
    };
    let running = move || live.with(|live| live.latest.as_ref().filter(|run| run.is_running()).map(|run| run.id));
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if count_error().is_some() || rate_error().is_some() {
            return;
        }
        start.dispatch(StartAttack {
            request: AttackRequest { count: count.get_untracked(), rate: rate.get_untracked() },
        });
    };
    // A started run shows at once, before the next poll.
    Effect::new(move |_| {
        if let Some(Ok(run)) = start.value().get() {
            live.update(|live| {
                if live.latest.as_ref().is_none_or(|latest| latest.id < run.id) {
                    live.latest = Some(run.clone());
                    live.responses.clear();
                    live.notification = None;
                }
            });
        }
    });
    let default_hint = match (overview.default_count, overview.sizing_problem.clone()) {
        (Some(count), _) => format!(
            "{count} wrong-key decrypts at {} a second cross the alarm's current threshold wherever they fall \
             against its periods.",
            overview.default_rate
        ),
        (None, Some(problem)) => format!("No default size: {problem}."),
        (None, None) => String::new(),
    };
    view! {
        <section class="panel" aria-label="Simulate an attack">
            <h2>"Simulate an attack"</h2>
            <p>
                "Send decrypts with the wrong key " <code>{attack::LAB_WRONG_KEY}</code>
                " to the application, as the lab's script does."
            </p>
            <p class="hint">{default_hint}</p>
            <form class="form-row" on:submit=on_submit novalidate>
                <div class="field">
                    <label for="attack-count">"Decrypts (N)"</label>
                    <input id="attack-count" type="text" inputmode="numeric" prop:value=move || count.get()
                        on:input=move |event| count.set(event_target_value(&event))
                        aria-invalid=move || count_error().is_some().to_string() aria-describedby="attack-count-error" />
                    <p class="field-error" id="attack-count-error" role="alert">
                        {move || count_error().or_else(|| server_field_error("count"))}
                    </p>
                </div>
                <div class="field">
                    <label for="attack-rate">"Per second (R)"</label>
                    <input id="attack-rate" type="text" inputmode="numeric" prop:value=move || rate.get()
                        on:input=move |event| rate.set(event_target_value(&event))
                        aria-invalid=move || rate_error().is_some().to_string() aria-describedby="attack-rate-error" />
                    <p class="field-error" id="attack-rate-error" role="alert">
                        {move || rate_error().or_else(|| server_field_error("rate"))}
                    </p>
                </div>
                <button type="submit" class="button" disabled=move || start.pending().get() || running().is_some()>
                    "Start the attack"
                </button>
                {move || running().map(|id| view! {
                    <button type="button" class="button" disabled=move || stop.pending().get()
                        on:click=move |_| { stop.dispatch(StopAttack { request: StopRequest { id } }); }>
                        "Stop"
                    </button>
                })}
            </form>
            {move || {
                server_error()
                    .filter(|error| !matches!(error, AppError::InvalidInput { field: Some(_), .. }))
                    .or_else(|| stop.value().get().and_then(Result::err))
                    .map(|error| view! { <ErrorPanel error /> })
            }}
            {move || live.with(|live| live.latest.clone()).map(|run| view! { <RunProgress run /> })}
            <ResponsesTable live />
        </section>
    }
}

#[component]
fn RunProgress(run: AttackRunView) -> impl IntoView {
    let percent = (u64::from(run.sent) * 100).checked_div(u64::from(run.requested_count)).unwrap_or(0);
    let counts = run
        .status_counts
        .iter()
        .map(|count| {
            format!(
                "{} × {}",
                count.count,
                count.status.map_or_else(|| "no answer".to_owned(), |status| status.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div class="run" data-testid="run">
            <p>
                {format!("Run {} — ", run.id)}
                <span data-testid="run-outcome" class=if run.is_running() { "status status-working" } else { "status" }>
                    {run.outcome_label()}
                </span>
                {run.alarm_reset.then_some(" (the alarm was in ALARM and was set back to OK first)")}
            </p>
            <progress
                class="progress"
                max=run.requested_count
                value=run.sent
                aria-label="Decrypts sent"
                aria-valuetext=format!("{} of {} sent", run.sent, run.requested_count)
            ></progress>
            <p data-testid="run-progress">
                {format!("{} of {} sent ({percent}%) at {} a second", run.sent, run.requested_count, run.rate_per_second)}
                {(!counts.is_empty()).then(|| format!(" — responses: {counts}"))}
            </p>
        </div>
    }
}

#[component]
fn ResponsesTable(live: RwSignal<TestingLive>) -> impl IntoView {
    view! {
        {move || {
            let responses = live.with(|live| live.responses.clone());
            (!responses.is_empty()).then(|| view! {
                <table class="table" aria-label="Responses">
                    <thead><tr><th>"#"</th><th>"Sent"</th><th>"Status"</th><th>"Body"</th></tr></thead>
                    <tbody>
                        {responses.into_iter().map(|response| view! {
                            <tr>
                                <td>{response.sequence}</td>
                                <td>{time_of_day(&response.sent_at)}</td>
                                <td>{response.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string())}</td>
                                <td><code>{response.body}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })
        }}
    }
}

#[component]
fn LivePanel(live: RwSignal<TestingLive>) -> impl IntoView {
    // The live view re-renders every second; the chosen range and the
    // hovered datapoint outlive it.
    let chart_state = ChartState::new();
    view! {
        <section class="panel" aria-label="Live view">
            {move || live.with(|live| {
                let state = live.alarm.as_ref().map(|alarm| alarm.state_value.clone()).unwrap_or_default();
                let state_class = match state.as_str() {
                    "ALARM" => "status status-failed",
                    "OK" => "status status-ok",
                    _ => "status",
                };
                let period_ms = live.alarm.as_ref().map_or(10_000, |alarm| i64::from(alarm.period_seconds) * 1000);
                view! {
                    <div class="panel-header">
                        <h2>"Live view"</h2>
                        <span class=state_class data-testid="alarm-state">{state.clone()}</span>
                    </div>
                    {live.alarm.as_ref().map(|alarm| view! {
                        <p class="hint">{format!("{}: {}", alarm.alarm_name, alarm.state_reason)}</p>
                    })}
                    <MetricChart
                        points=live.datapoints.clone()
                        threshold=live.alarm.as_ref().map(|alarm| alarm.threshold)
                        from_ms=live.chart_from_ms
                        to_ms=live.chart_to_ms
                        period_ms=period_ms
                        state=chart_state
                    />
                    {live.latest.clone().map(|run| view! { <Detection run live_aws=live.live_aws /> })}
                    {live.notification.clone().map(|notification| view! {
                        <div class="notification" aria-label="Notification">
                            <h3>{format!("Notification ({}, {})", notification.source, time_of_day(&notification.at))}</h3>
                            {notification.subject.map(|subject| view! { <p><strong>{subject}</strong></p> })}
                            <pre class="http" data-testid="notification">{notification.message}</pre>
                        </div>
                    })}
                }
            })}
        </section>
    }
}

/// The measured times of a run, or what it is waiting for.
#[component]
fn Detection(run: AttackRunView, live_aws: bool) -> impl IntoView {
    let to_alarm = run.time_to_alarm_ms.map(attack::format_duration_ms);
    let to_notification = run.time_to_notification_ms.map(attack::format_duration_ms);
    let to_contain = run.time_to_contain_ms.map(attack::format_duration_ms);
    let waiting = run.is_running() && to_alarm.is_none();
    view! {
        <dl class="facts" aria-label="Time to detect">
            <dt>"First failing call"</dt>
            <dd>{run.first_failure_at.as_deref().map_or_else(|| "not yet".to_owned(), time_of_day)}</dd>
            <dt>"Time to ALARM"</dt>
            <dd data-testid="time-to-alarm">{to_alarm.unwrap_or_else(|| "not yet".to_owned())}</dd>
            <dt>"Time to notification"</dt>
            <dd data-testid="time-to-notification">{to_notification.unwrap_or_else(|| "not yet".to_owned())}</dd>
            <dt>"Time to contain"</dt>
            <dd data-testid="time-to-contain">
                {to_contain.unwrap_or_else(|| "no response has contained it (the alarm's page sets one)".to_owned())}
            </dd>
        </dl>
        {(waiting && live_aws).then(|| view! {
            <p class="hint">
                {format!(
                    "Waiting for CloudTrail's delivery (typically about 5 minutes, up to 15); watching{}.",
                    run.watch_until.as_deref().map(|until| format!(" until {}", time_of_day(until))).unwrap_or_default()
                )}
            </p>
        })}
    }
}

#[component]
fn RunsTable(live: RwSignal<TestingLive>) -> impl IntoView {
    view! {
        <section class="panel" aria-label="Past runs">
            <h2>"Attack runs"</h2>
            {move || {
                let runs = live.with(|live| live.runs.clone());
                if runs.is_empty() {
                    return view! { <p class="empty">"No attack run yet."</p> }.into_any();
                }
                view! {
                    <table class="table" aria-label="Attack runs">
                        <thead>
                            <tr>
                                <th>"Run"</th><th>"Started"</th><th>"N at R/s"</th><th>"Sent"</th>
                                <th>"Outcome"</th><th>"Time to ALARM"</th><th>"Time to notification"</th>
                                <th>"Time to contain"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {runs.into_iter().map(|run| view! {
                                <tr>
                                    <td>{run.id}</td>
                                    <td>{run.started_at.replace('T', " ").replace('Z', " UTC")}</td>
                                    <td>{format!("{} at {}/s", run.requested_count, run.rate_per_second)}</td>
                                    <td>{run.sent}</td>
                                    <td>{run.outcome_label()}</td>
                                    <td>{run.time_to_alarm_ms.map(attack::format_duration_ms).unwrap_or_default()}</td>
                                    <td>{run.time_to_notification_ms.map(attack::format_duration_ms).unwrap_or_default()}</td>
                                    <td>{run.time_to_contain_ms.map(attack::format_duration_ms).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
}

/// `2026-11-27T03:49:38.123Z` as `03:49:38 UTC`.
fn time_of_day(rfc3339: &str) -> String {
    rfc3339
        .split_once('T')
        .map(|(_, time)| format!("{} UTC", time.get(..8).unwrap_or(time)))
        .unwrap_or_else(|| rfc3339.to_owned())
}
