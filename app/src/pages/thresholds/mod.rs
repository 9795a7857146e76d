//! The Alarms page (`/alarms`): the alarms Keywatch manages, or every alarm
//! in the Region, with state, metric and condition in words, and the logging
//! stack's optional detections switched and tuned through the stack; and one alarm's
//! page (`/alarms/edit?name=…`): the threshold form checked beside each field
//! with the domain's rules before anything is sent, the preview of the
//! current against the proposed setting over the metric's history, Apply, and
//! the recorded changes (polled while a stack update is under way).

use std::time::Duration;

use keywatch_domain::alarm::form::STATISTICS;
use keywatch_domain::alarm::{ComparisonOperator, Preview, ThresholdForm, TreatMissingData};
use keywatch_domain::cloudformation::Template;
use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use keywatch_domain::filter_pattern::tester::test_events;

use crate::api::thresholds::{
    AlarmListQuery, AlarmRequest, AlarmView, ApplyThreshold, ChangePath, DetectionRequest, DetectionView, SetDetection,
    ThresholdChange, ThresholdRequest, get_alarm, get_detections, list_alarms, preview_threshold, recent_trail_events,
};
use crate::components::feedback::ErrorPanel;
use crate::error::AppError;

/// How often the alarm's page refreshes its state and changes.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The link to an alarm's page.
pub fn alarm_href(alarm_name: &str) -> String {
    format!("/alarms/edit?name={}", encode(alarm_name))
}

/// The `/alarms` list.
#[component]
pub fn AlarmsPage() -> impl IntoView {
    let query = use_query_map();
    let all = Memo::new(move |_| query.with(|q| q.get("all").is_some_and(|v| v == "1")));
    let alarms = Resource::new(move || all.get(), |all| list_alarms(AlarmListQuery { all }));
    view! {
        <h1>"Alarms"</h1>
        <p>
            {move || if all.get() {
                view! { "Every alarm in the Region. " <A href="/alarms">"Show only Keywatch's alarms"</A> }.into_any()
            } else {
                view! {
                    "The alarms Keywatch manages. " <A href="/alarms?all=1">"Show all alarms in the Region"</A>
                }.into_any()
            }}
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Asking CloudWatch…"</p> }>
            {move || Suspend::new(async move {
                match alarms.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No alarms yet. Deploy the lab's logging and alarm section first."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" aria-label="Alarms">
                            <thead><tr><th>"Alarm"</th><th>"State"</th><th>"Metric"</th><th>"Condition"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|alarm| view! {
                                    <tr>
                                        <td><a href=alarm_href(&alarm.alarm_name)>{alarm.alarm_name.clone()}</a></td>
                                        <td>{alarm.state_value}</td>
                                        <td><code>{alarm.metric}</code></td>
                                        <td>{alarm.condition.unwrap_or_else(|| "not a static threshold".to_owned())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
        <DetectionsPanel />
        <p><A href="/alarms/pattern-tester">"Test a filter pattern against log events"</A></p>
    }
}

/// The lab's metric filter pattern without its task-role condition (which names the deployed role).
const LAB_PATTERN: &str = r#"{ $.errorCode = "*" && $.eventSource= "kms.amazonaws.com" }"#;

/// The pattern tester (`/alarms/pattern-tester`): runs in the browser with
/// the domain's filter-pattern implementation, the one the sandbox's metric
/// filters run; recent events can be fetched from the trail's log group.
#[component]
pub fn PatternTesterPage() -> impl IntoView {
    let pattern = RwSignal::new(LAB_PATTERN.to_owned());
    let metric_value = RwSignal::new("1".to_owned());
    let events = RwSignal::new(String::new());
    let outcome = move || test_events(&pattern.get(), &metric_value.get(), &events.get());
    let field_error = move |field: &str| outcome().err().filter(|e| e.field == field).map(|e| e.message);
    let fetch = Action::new_local(|(): &()| recent_trail_events());
    Effect::new(move |_| {
        if let Some(Ok(messages)) = fetch.value().get() {
            events.set(messages.join("\n"));
        }
    });
    view! {
        <p><A href="/alarms">"All alarms"</A></p>
        <h1>"Filter pattern tester"</h1>
        <section class="panel" aria-label="Pattern">
            <div class="field">
                <label for="pattern">"Filter pattern"</label>
                <textarea id="pattern" rows="3" prop:value=move || pattern.get()
                    on:input=move |event| pattern.set(event_target_value(&event))
                    aria-describedby="pattern-error"></textarea>
                <p class="field-error" id="pattern-error" role="alert">{move || field_error("pattern")}</p>
            </div>
            <div class="field">
                <label for="metric-value">"Metric value"</label>
                <input id="metric-value" type="text" prop:value=move || metric_value.get()
                    on:input=move |event| metric_value.set(event_target_value(&event))
                    aria-describedby="metric-value-error" />
                <p class="hint">"A number, or a field of the event: $.field for JSON patterns, $name for space-delimited ones."</p>
                <p class="field-error" id="metric-value-error" role="alert">{move || field_error("metricValue")}</p>
            </div>
            <div class="field">
                <label for="events">"Log events (one per line)"</label>
                <textarea id="events" rows="8" prop:value=move || events.get()
                    on:input=move |event| events.set(event_target_value(&event))></textarea>
            </div>
            <div class="actions">
                <button type="button" class="button" on:click=move |_| { fetch.dispatch(()); }>
                    "Use recent KMS events from the trail's log group"
                </button>
            </div>
            {move || fetch.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
        <section class="panel" aria-label="Results">
            <h2>"Results"</h2>
            {move || outcome().ok().map(|outcomes| {
                let matched = outcomes.iter().filter(|o| o.matched).count();
                view! {
                    <p data-testid="match-count">{format!("{matched} of {} events match", outcomes.len())}</p>
                    <table class="table" aria-label="Pattern results">
                        <thead><tr><th>"Event"</th><th>"Matches"</th><th>"Metric value"</th><th>"Extracted values"</th></tr></thead>
                        <tbody>
                            {outcomes.into_iter().map(|o| view! {
                                <tr>
                                    <td><code>{o.event}</code></td>
                                    <td>{if o.matched { "yes" } else { "no" }}</td>
                                    <td>{o.metric_value.map(|v| v.to_string()).unwrap_or_default()}</td>
                                    <td>{o.extracted_values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
        </section>
    }
}

/// The logging stack's optional detections, each switched and tuned through the stack.
#[component]
fn DetectionsPanel() -> impl IntoView {
    let detections = Resource::new(|| (), |()| get_detections());
    view! {
        <section class="panel" aria-label="Detections">
            <h2>"Detections"</h2>
            <p>
                "Beside the lab's detection (failed KMS calls by the task role), the logging stack offers these. \
                 Each is switched on or off and tuned through the stack's parameters with a change set."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Reading the logging stack…"</p> }>
                {move || Suspend::new(async move {
                    match detections.await {
                        Ok(found) if found.stack_name.is_none() => view! {
                            <p class="empty">"Deploy the logging and alarm section first."</p>
                        }.into_any(),
                        Ok(found) => found
                            .detections
                            .into_iter()
                            .map(|detection| view! { <DetectionForm detection /> })
                            .collect_view()
                            .into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DetectionForm(detection: DetectionView) -> impl IntoView {
    // The template is parsed in the browser too: the same rules as the server.
    let template = StoredValue::new(LabSection::LoggingAndAlarm.template().and_then(|body| Template::parse(body).ok()));
    let kind = detection.detection;
    let enabled = RwSignal::new(detection.enabled);
    let values: Vec<(String, RwSignal<String>)> =
        detection.fields.iter().map(|f| (f.key.clone(), RwSignal::new(f.value.clone()))).collect();
    let values = StoredValue::new(values);
    let current = move || values.with_value(|v| v.iter().map(|(k, s)| (k.clone(), s.get())).collect::<Vec<_>>());
    let errors = move || template.with_value(|t| t.as_ref().map(|t| kind.errors(t, &current())).unwrap_or_default());
    let apply = ServerAction::<SetDetection>::new();
    let server_field_error = move |key: &str| match apply.value().get().and_then(Result::err) {
        Some(AppError::InvalidInput { field: Some(f), message }) if f == key => Some(message),
        _ => None,
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !errors().is_empty() {
            return;
        }
        apply.dispatch(SetDetection {
            request: DetectionRequest { detection: kind, enabled: enabled.get_untracked(), values: current() },
        });
    };
    let slug = format!("{kind:?}");
    let title = detection.title.clone();
    view! {
        <form class="form-grid" on:submit=on_submit novalidate aria-label=title.clone()>
            <h3>{title.clone()}</h3>
            <div class="field">
                <label>
                    <input
                        type="checkbox"
                        name=format!("{slug}-enabled")
                        prop:checked=move || enabled.get()
                        on:change=move |event| enabled.set(event_target_checked(&event))
                    />
                    " On"
                </label>
                <p class="hint">
                    {detection.alarm_name.clone().map_or_else(
                        || "Off: no metric filter or alarm is deployed.".to_owned(),
                        |name| format!("Alarm {name}"),
                    )}
                </p>
            </div>
            {detection.fields.iter().map(|field| {
                let key = field.key.clone();
                let id = format!("detection-{key}");
                let error_id = format!("detection-{key}-error");
                let signal = values.with_value(|v| v.iter().find(|(k, _)| *k == key).map(|(_, s)| *s));
                let error_key = key.clone();
                let error = move || {
                    errors().into_iter().find(|e| e.field == error_key).map(|e| e.message)
                        .or_else(|| server_field_error(&error_key))
                };
                view! {
                    <div class="field">
                        <label for=id.clone()>{key.clone()}</label>
                        <input
                            id=id
                            name=key.clone()
                            type="text"
                            prop:value=move || signal.map(|s| s.get()).unwrap_or_default()
                            on:input=move |event| if let Some(s) = signal { s.set(event_target_value(&event)) }
                            aria-describedby=error_id.clone()
                        />
                        {field.description.clone().map(|d| view! { <p class="hint">{d}</p> })}
                        <p class="field-error" id=error_id role="alert">{error}</p>
                    </div>
                }
            }).collect_view()}
            <div class="actions">
                <button type="submit" class="button" disabled=move || apply.pending().get()>
                    "Apply through the stack"
                </button>
            </div>
            {move || apply.value().get().map(|result| match result {
                Ok(change) => view! {
                    <p class="banner" role="status">
                        {format!("Change {} recorded (change set on {}): {}", change.id,
                            change.stack_name.unwrap_or_default(), change.outcome)}
                    </p>
                }.into_any(),
                Err(AppError::InvalidInput { field: Some(_), .. }) => ().into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </form>
    }
}

/// One alarm's page.
#[component]
pub fn AlarmPage() -> impl IntoView {
    let query = use_query_map();
    let name = Memo::new(move |_| query.with(|q| q.get("name").unwrap_or_default()));
    let alarm = Resource::new(move || name.get(), |alarm_name| get_alarm(AlarmRequest { alarm_name }));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the alarm…"</p> }>
            {move || Suspend::new(async move {
                match alarm.await {
                    Ok(view) => view! { <AlarmEditor initial=view /> }.into_any(),
                    Err(error) => view! { <p><A href="/alarms">"All alarms"</A></p><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The form's seven fields as signals.
#[derive(Clone, Copy)]
struct FormSignals {
    threshold: RwSignal<String>,
    comparison_operator: RwSignal<String>,
    statistic: RwSignal<String>,
    period: RwSignal<String>,
    evaluation_periods: RwSignal<String>,
    datapoints_to_alarm: RwSignal<String>,
    treat_missing_data: RwSignal<String>,
}

impl FormSignals {
    fn new(form: ThresholdForm) -> FormSignals {
        FormSignals {
            threshold: RwSignal::new(form.threshold),
            comparison_operator: RwSignal::new(form.comparison_operator),
            statistic: RwSignal::new(form.statistic),
            period: RwSignal::new(form.period),
            evaluation_periods: RwSignal::new(form.evaluation_periods),
            datapoints_to_alarm: RwSignal::new(form.datapoints_to_alarm),
            treat_missing_data: RwSignal::new(form.treat_missing_data),
        }
    }

    fn get(self) -> ThresholdForm {
        ThresholdForm {
            threshold: self.threshold.get(),
            comparison_operator: self.comparison_operator.get(),
            statistic: self.statistic.get(),
            period: self.period.get(),
            evaluation_periods: self.evaluation_periods.get(),
            datapoints_to_alarm: self.datapoints_to_alarm.get(),
            treat_missing_data: self.treat_missing_data.get(),
        }
    }

    fn signal(self, field: &str) -> RwSignal<String> {
        match field {
            "Threshold" => self.threshold,
            "ComparisonOperator" => self.comparison_operator,
            "Statistic" => self.statistic,
            "Period" => self.period,
            "EvaluationPeriods" => self.evaluation_periods,
            "DatapointsToAlarm" => self.datapoints_to_alarm,
            _ => self.treat_missing_data,
        }
    }
}

/// A field of the form: its key, label, hint and choices (empty: free text).
struct FieldSpec {
    key: &'static str,
    label: &'static str,
    hint: &'static str,
    choices: Vec<&'static str>,
}

fn field_specs() -> Vec<FieldSpec> {
    vec![
        FieldSpec {
            key: "Threshold",
            label: "Threshold",
            hint: "A number the statistic is compared with.",
            choices: vec![],
        },
        FieldSpec {
            key: "ComparisonOperator",
            label: "Comparison operator",
            hint: "How the statistic is compared with the threshold.",
            choices: ComparisonOperator::ALL.iter().map(|op| op.as_str()).collect(),
        },
        FieldSpec {
            key: "Statistic",
            label: "Statistic",
            hint: "What each period's datapoint is.",
            choices: STATISTICS.iter().map(|stat| stat.as_str()).collect(),
        },
        FieldSpec {
            key: "Period",
            label: "Period (seconds)",
            hint: "10, 20, 30 or a multiple of 60.",
            choices: vec![],
        },
        FieldSpec {
            key: "EvaluationPeriods",
            label: "Evaluation periods (N)",
            hint: "How many recent periods are evaluated; Period × N is at most one day (seven days for periods of an hour or more).",
            choices: vec![],
        },
        FieldSpec {
            key: "DatapointsToAlarm",
            label: "Datapoints to alarm (M)",
            hint: "How many of the N must breach; 1 to N.",
            choices: vec![],
        },
        FieldSpec {
            key: "TreatMissingData",
            label: "Missing data treatment",
            hint: "What periods without data count as.",
            choices: TreatMissingData::ALL.iter().map(|tmd| tmd.as_str()).collect(),
        },
    ]
}

#[component]
fn AlarmEditor(initial: AlarmView) -> impl IntoView {
    let view_state = RwSignal::new(initial.clone());
    let form = FormSignals::new(ThresholdForm::of(&initial.settings));
    let alarm_name = initial.alarm_name.clone();
    let base = move || view_state.with(|v| v.settings.clone());
    let apply = ServerAction::<ApplyThreshold>::new();

    let client_error = move |field: &str| form.get().error_for(&base(), field);
    let server_error = move || apply.value().get().and_then(Result::err);
    let server_field_error = move |field: &str| match server_error() {
        Some(AppError::InvalidInput { field: Some(f), message }) if f == field => Some(message),
        _ => None,
    };
    let path = initial.path.clone();
    let bound = move |field: &str| match &path {
        ChangePath::Stack { parameters, .. } => parameters.iter().any(|p| p.field == field),
        ChangePath::PutMetricAlarm => true,
    };

    // The preview runs in the browser only, whenever the form holds a valid setting.
    let preview_name = alarm_name.clone();
    // Refreshing the page's state every few seconds must not re-run the
    // preview: only a changed form or a changed alarm setting does.
    let condition = Memo::new(move |_| view_state.with(|v| v.condition.clone()));
    let preview = LocalResource::new(move || {
        let form_now = form.get();
        condition.track();
        let valid = form_now.apply(&view_state.with_untracked(|v| v.settings.clone())).is_ok();
        let alarm_name = preview_name.clone();
        async move {
            if valid { Some(preview_threshold(ThresholdRequest { alarm_name, form: form_now }).await) } else { None }
        }
    });

    // Refresh state and changes; a stack update finishes in the background.
    let refresh_name = alarm_name.clone();
    Effect::new(move |_| {
        let name = refresh_name.clone();
        let tick = move || {
            let alarm_name = name.clone();
            leptos::task::spawn_local(async move {
                if let Ok(now) = get_alarm(AlarmRequest { alarm_name }).await {
                    view_state.set(now);
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(tick, REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });

    let submit_name = alarm_name.clone();
    let on_apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let form_now = form.get_untracked_form();
        // Nothing is sent while a field is invalid; the messages are beside them.
        if form_now.apply(&view_state.with_untracked(|v| v.settings.clone())).is_err() {
            return;
        }
        apply
            .dispatch(ApplyThreshold { request: ThresholdRequest { alarm_name: submit_name.clone(), form: form_now } });
    };

    let path_text = match &initial.path {
        ChangePath::Stack { stack_name, logical_id, .. } => format!(
            "Owned by the Keywatch stack {stack_name} (resource {logical_id}): Apply changes the stack's parameters \
             through a change set, so the stack and the alarm never drift."
        ),
        ChangePath::PutMetricAlarm => {
            "No Keywatch stack owns this alarm: Apply calls PutMetricAlarm with every setting.".to_owned()
        }
    };

    view! {
        <p><A href="/alarms">"All alarms"</A></p>
        <h1>{alarm_name.clone()}</h1>
        <section class="panel" aria-label="Alarm">
            <dl class="facts">
                <dt>"State"</dt>
                <dd data-testid="alarm-state">{move || view_state.with(|v| v.state_value.clone())}</dd>
                <dt>"Condition"</dt>
                <dd data-testid="alarm-condition">{move || view_state.with(|v| v.condition.clone())}</dd>
                <dt>"Metric"</dt>
                <dd><code>{format!("{} / {}", initial.settings.namespace, initial.settings.metric_name)}</code></dd>
                <dt>"Changes go"</dt>
                <dd data-testid="change-path">{path_text}</dd>
            </dl>
        </section>
        <section class="panel" aria-label="Settings">
            <h2>"Settings"</h2>
            <form class="form-grid" on:submit=on_apply novalidate>
                {field_specs().into_iter().map(|spec| {
                    let key = spec.key;
                    let id = format!("field-{key}");
                    let error_id = format!("field-{key}-error");
                    let value = form.signal(key);
                    let editable = bound(key);
                    let error = move || client_error(key).or_else(|| server_field_error(key));
                    let input = if spec.choices.is_empty() {
                        view! {
                            <input
                                id=id.clone()
                                name=key
                                type="text"
                                inputmode="decimal"
                                disabled=!editable
                                prop:value=move || value.get()
                                on:input=move |event| value.set(event_target_value(&event))
                                aria-invalid=move || error().is_some().to_string()
                                aria-describedby=error_id.clone()
                            />
                        }.into_any()
                    } else {
                        view! {
                            <select
                                id=id.clone()
                                name=key
                                disabled=!editable
                                prop:value=move || value.get()
                                on:change=move |event| value.set(event_target_value(&event))
                                aria-describedby=error_id.clone()
                            >
                                {spec.choices.iter().map(|choice| {
                                    let selected = *choice == value.get_untracked();
                                    view! { <option value=*choice selected=selected>{*choice}</option> }
                                }).collect_view()}
                            </select>
                        }.into_any()
                    };
                    view! {
                        <div class="field">
                            <label for=id>{spec.label}</label>
                            {input}
                            <p class="hint">
                                {spec.hint}
                                {(!editable).then_some(" Fixed by the stack's template (not a parameter).")}
                            </p>
                            <p class="field-error" id=error_id.clone() role="alert">{error}</p>
                        </div>
                    }
                }).collect_view()}
                <div class="actions">
                    <button type="submit" class="button" disabled=move || apply.pending().get()>
                        {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                    </button>
                </div>
            </form>
            {move || server_error()
                .filter(|error| !matches!(error, AppError::InvalidInput { field: Some(_), .. }))
                .map(|error| view! { <ErrorPanel error /> })}
            {move || apply.value().get().and_then(Result::ok).map(|change| {
                // The outcome as the refreshed Changes table has it: the
                // answer to Apply said "pending" for a stack update forever.
                let outcome = view_state.with(|v| {
                    v.changes.iter().find(|c| c.id == change.id).map_or(change.outcome.clone(), |c| c.outcome.clone())
                });
                view! {
                    <p class="banner" role="status" data-testid="apply-status">
                        {format!("Change {} recorded ({}): {outcome}", change.id, change.path)}
                    </p>
                }
            })}
        </section>
        <section class="panel" aria-label="Preview">
            <h2>"What it would have done"</h2>
            // Read directly rather than through <Suspense>: a LocalResource
            // never loads on the server, so both sides start from "loading"
            // and hydration agrees; the result replaces it in the browser.
            // The server must not read it at all: there it never loads, and
            // reading it held the page's <Suspense> open until the render
            // gave up on it, which then rendered the fallback and ran this
            // section's other closures on disposed signals ("reactive value
            // … disposed" in one load of four; 0 panics and the editor in 40
            // of 40 loads once it was not read).
            {move || match if cfg!(feature = "ssr") { None } else { preview.get() } {
                None => view! { <p class="loading">"Replaying the metric's history…"</p> }.into_any(),
                Some(None) => view! { <p class="hint">"Fix the settings above to see a preview."</p> }.into_any(),
                Some(Some(Ok(preview))) => view! { <PreviewView preview /> }.into_any(),
                Some(Some(Err(error))) => view! { <ErrorPanel error /> }.into_any(),
            }}
        </section>
        <section class="panel" aria-label="Changes">
            <h2>"Changes"</h2>
            {move || view! { <ChangesTable changes=view_state.with(|v| v.changes.clone()) /> }}
        </section>
    }
}

impl FormSignals {
    fn get_untracked_form(self) -> ThresholdForm {
        ThresholdForm {
            threshold: self.threshold.get_untracked(),
            comparison_operator: self.comparison_operator.get_untracked(),
            statistic: self.statistic.get_untracked(),
            period: self.period.get_untracked(),
            evaluation_periods: self.evaluation_periods.get_untracked(),
            datapoints_to_alarm: self.datapoints_to_alarm.get_untracked(),
            treat_missing_data: self.treat_missing_data.get_untracked(),
        }
    }
}

/// "3 h 20 min", "45 s".
fn describe_span(ms: i64) -> String {
    let seconds = ms / 1_000;
    let (h, m, s) = (seconds / 3_600, seconds % 3_600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}

#[component]
fn PreviewView(preview: Preview) -> impl IntoView {
    let rows = [("Current", preview.current.clone()), ("Proposed", preview.proposed.clone())];
    view! {
        <table class="table" aria-label="Preview outcomes">
            <thead><tr><th>"Setting"</th><th>"Condition"</th><th>"Alarms"</th><th>"Time in ALARM"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|(label, outcome)| view! {
                    <tr data-testid=format!("outcome-{}", label.to_lowercase())>
                        <th scope="row">{label}</th>
                        <td>{outcome.condition.clone()}</td>
                        <td data-testid="alarm-count">{outcome.alarm_count}</td>
                        <td>{describe_span(outcome.time_in_alarm_ms)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p class="hint">
            {format!(
                "{} datapoints of {} over the last 15 days, replayed with CloudWatch's evaluation rules. \
                 CloudWatch keeps datapoints of periods under a minute for 3 hours only.",
                preview.datapoints, preview.series_label
            )}
        </p>
        <PreviewChart preview />
    }
}

/// The metric (each bucket's range), both thresholds, and each setting's ALARM periods.
#[component]
fn PreviewChart(preview: Preview) -> impl IntoView {
    const W: f64 = 800.0;
    const PLOT: f64 = 180.0;
    const BAND: f64 = 14.0;
    const LEFT: f64 = 70.0;
    let span = (preview.to_ms - preview.from_ms).max(1) as f64;
    let x = move |ms: i64| LEFT + (ms - preview.from_ms) as f64 / span * (W - LEFT);
    let top = preview
        .buckets
        .iter()
        .map(|b| b.max)
        .chain([preview.current.threshold, preview.proposed.threshold])
        .fold(f64::MIN, f64::max);
    let bottom = preview
        .buckets
        .iter()
        .map(|b| b.min)
        .chain([preview.current.threshold, preview.proposed.threshold, 0.0])
        .fold(f64::MAX, f64::min);
    let range = if top > bottom { (top - bottom) * 1.1 } else { 1.0 };
    let y = move |value: f64| PLOT - (value - bottom) / range * (PLOT - 10.0);
    let bars = preview
        .buckets
        .iter()
        .map(|b| {
            let (x1, x2) = (x(b.start_ms), x(b.end_ms).max(x(b.start_ms) + 1.0));
            let (y1, y2) = (y(b.max), y(b.min));
            view! {
                <rect class="chart-bar" x=x1 y=y1 width=x2 - x1 height=(y2 - y1).max(1.0)>
                    <title>{format!("{} to {}", b.min, b.max)}</title>
                </rect>
            }
        })
        .collect_view();
    let band_row = |row: f64, intervals: Vec<(i64, i64)>, label: &'static str| {
        let y0 = PLOT + 8.0 + row * (BAND + 4.0);
        view! {
            <g aria-label=label>
                <text class="chart-label" x="0" y=y0 + BAND - 3.0>{label}</text>
                {intervals.into_iter().map(|(start, end)| view! {
                    <rect class="state-alarm" x=x(start) y=y0 width=(x(end) - x(start)).max(1.0) height=BAND></rect>
                }).collect_view()}
            </g>
        }
    };
    let height = PLOT + 8.0 + 2.0 * (BAND + 4.0) + 4.0;
    let (current_t, proposed_t) = (preview.current.threshold, preview.proposed.threshold);
    view! {
        <svg class="chart" role="img" aria-label="Metric with both thresholds" viewBox=format!("0 0 {W} {height}")>
            <text class="chart-axis" x="0" y="12">{format!("{top}")}</text>
            {bars}
            <line class="chart-threshold" x1=LEFT x2=W y1=y(current_t) y2=y(current_t)>
                <title>{format!("Current threshold {current_t}")}</title>
            </line>
            <line class="chart-threshold-proposed" x1=LEFT x2=W y1=y(proposed_t) y2=y(proposed_t)>
                <title>{format!("Proposed threshold {proposed_t}")}</title>
            </line>
            {band_row(0.0, preview.current.alarm_intervals.clone(), "Current")}
            {band_row(1.0, preview.proposed.alarm_intervals.clone(), "Proposed")}
        </svg>
        <p class="legend">
            "Dashed: current threshold " {current_t} ". Solid: proposed threshold " {proposed_t}
            ". Red bands: periods each setting would have been in ALARM."
        </p>
    }
}

#[component]
fn ChangesTable(changes: Vec<ThresholdChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="empty">"No changes made from Keywatch yet."</p> }.into_any();
    }
    view! {
        <table class="table" aria-label="Threshold changes">
            <thead>
                <tr><th>"When"</th><th>"What"</th><th>"Via"</th><th>"Outcome"</th></tr>
            </thead>
            <tbody>
                {changes.into_iter().map(|change| {
                    let what = change
                        .fields
                        .iter()
                        .map(|(field, old, new)| format!("{field}: {old} → {new}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let via = match (&change.stack_name, &change.change_set_id) {
                        (Some(stack), Some(_)) => format!("change set on {stack}"),
                        _ => change.path.clone(),
                    };
                    let outcome = match &change.detail {
                        Some(detail) => format!("{}: {detail}", change.outcome),
                        None => change.outcome.clone(),
                    };
                    view! {
                        <tr>
                            <td>{change.requested_at.clone()}</td>
                            <td>{what}</td>
                            <td>{via}</td>
                            <td>{outcome}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(describe_span(45_000), "45 s");
        assert_eq!(describe_span(125_000), "2 min 5 s");
        assert_eq!(describe_span(12_000_000), "3 h 20 min");
    }

    #[test]
    fn alarm_links_encode_the_name() {
        assert_eq!(alarm_href("a b/c"), "/alarms/edit?name=a%20b%2Fc");
    }
}
