//! The Alarms page (`/alarms`): the alarms Keywatch manages, or every alarm
//! in the Region, with state, metric and condition in words, and the logging
//! stack's optional detections switched and tuned through the stack; and one alarm's
//! page (`/alarms/edit?name=…`): the threshold form checked beside each field
//! with the domain's rules before anything is sent, the preview of the
//! current against the proposed setting over the metric's history, the
//! threshold sweep (alarms and time in ALARM per threshold; picking one fills
//! the threshold field), Apply, and
//! the recorded changes (polled while a stack update is under way), and
//! the alarm's response playbooks and responses ([`responses`]).

pub(crate) mod responses;

use std::time::Duration;

use keywatch_domain::alarm::form::STATISTICS;
use keywatch_domain::alarm::{ComparisonOperator, Preview, Sweep, SweepPoint, ThresholdForm, TreatMissingData};
use keywatch_domain::chart::{LinearScale, date_time, value_ticks};
use keywatch_domain::cloudformation::Template;
use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use keywatch_domain::filter_pattern::tester::test_events;

use crate::api::alarms::{
    AlarmListQuery, AlarmRequest, AlarmView, ApplyThreshold, ChangePath, DetectionRequest, DetectionView, SetDetection,
    ThresholdChange, ThresholdRequest, get_alarm, get_detections, list_alarms, preview_threshold, recent_trail_events,
    sweep_thresholds,
};
use crate::components::chart::{
    BandRow, Chart, ChartSpec, HoverPoint, PlotKind, PlotPoint, ThresholdMark, ValuePlot, value_text,
};
use crate::components::feedback::ErrorPanel;
use crate::components::field::ParameterField;
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
                let value = values
                    .with_value(|v| v.iter().find(|(k, _)| *k == key).map(|(_, s)| *s))
                    .unwrap_or_else(|| RwSignal::new(String::new()));
                let error_key = key.clone();
                let error = Signal::derive(move || {
                    errors().into_iter().find(|e| e.field == error_key).map(|e| e.message)
                        .or_else(|| server_field_error(&error_key))
                });
                view! {
                    <ParameterField
                        name=key.clone()
                        id=format!("detection-{key}")
                        value
                        hint=field.description.clone()
                        error
                    />
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
                    Ok(view) => {
                        let alarm_name = view.alarm_name.clone();
                        view! { <AlarmEditor initial=view /><responses::ResponsePanel alarm_name /> }.into_any()
                    }
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
        ChangePath::StackTemplate { .. } | ChangePath::PutMetricAlarm => true,
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

    // The sweep follows the form like the preview, in the browser only.
    let sweep_name = alarm_name.clone();
    let sweep = LocalResource::new(move || {
        let form_now = form.get();
        condition.track();
        let valid = form_now.apply(&view_state.with_untracked(|v| v.settings.clone())).is_ok();
        let alarm_name = sweep_name.clone();
        async move {
            if valid { Some(sweep_thresholds(ThresholdRequest { alarm_name, form: form_now }).await) } else { None }
        }
    });
    let threshold_field = form.signal("Threshold");

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
        ChangePath::StackTemplate { stack_name, logical_id } => format!(
            "Owned by the stack {stack_name} (resource {logical_id}), deployed by hand and adopted: Apply changes \
             the alarm in the stack's own template through a change set, so the stack and the alarm never drift."
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
        <section class="panel" aria-label="Threshold sweep">
            <h2>"Alarms by threshold"</h2>
            <p class="hint">
                "How many times each threshold would have gone into ALARM over the last 15 days, and for how \
                 long, with the other settings above: pick the value that keeps real incidents and drops noise."
            </p>
            // Not read on the server, for the same reason as the preview.
            {move || match if cfg!(feature = "ssr") { None } else { sweep.get() } {
                None => view! { <p class="loading">"Sweeping thresholds…"</p> }.into_any(),
                Some(None) => view! { <p class="hint">"Fix the settings above to see the sweep."</p> }.into_any(),
                Some(Some(Ok(sweep))) => {
                    let current = view_state.with_untracked(|v| v.settings.threshold);
                    let proposed = threshold_field.get_untracked().trim().parse().unwrap_or(current);
                    view! { <SweepView sweep current proposed pick=threshold_field /> }.into_any()
                }
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

/// The metric (each bucket's range), both thresholds labelled, and each
/// setting's ALARM periods, on the shared chart (opened on the data).
#[component]
fn PreviewChart(preview: Preview) -> impl IntoView {
    let (current_t, proposed_t) = (preview.current.threshold, preview.proposed.threshold);
    let points: Vec<PlotPoint> = preview
        .buckets
        .iter()
        .map(|b| PlotPoint { start_ms: b.start_ms, end_ms: b.end_ms, min: b.min, max: b.max })
        .collect();
    let hover = preview
        .buckets
        .iter()
        .map(|b| {
            let values = if b.min == b.max {
                value_text(b.max)
            } else {
                format!("{} to {}", value_text(b.min), value_text(b.max))
            };
            HoverPoint { ms: b.start_ms, text: format!("{}: {values}", date_time(b.start_ms)) }
        })
        .collect();
    let mut thresholds = vec![ThresholdMark {
        value: current_t,
        label: format!("current {}", value_text(current_t)),
        class: "chart-threshold",
    }];
    if proposed_t != current_t {
        thresholds.push(ThresholdMark {
            value: proposed_t,
            label: format!("proposed {}", value_text(proposed_t)),
            class: "chart-threshold-proposed",
        });
    }
    let summary = format!(
        "{} over the last 15 days: the current setting would have alarmed {} times, the proposed {} times.",
        preview.series_label, preview.current.alarm_count, preview.proposed.alarm_count
    );
    let spec = ChartSpec {
        title: "Metric with both thresholds".to_owned(),
        summary,
        plot: Some(ValuePlot {
            kind: PlotKind::Range,
            points,
            caption: preview.series_label.clone(),
            thresholds,
            breach_above: None,
        }),
        rows: vec![
            BandRow { label: "Current".to_owned(), bands: Vec::new(), alarms: preview.current.alarm_intervals.clone() },
            BandRow {
                label: "Proposed".to_owned(),
                bands: Vec::new(),
                alarms: preview.proposed.alarm_intervals.clone(),
            },
        ],
        hover,
        full_range: (preview.from_ms, preview.to_ms),
        min_span_ms: 10 * 60_000,
        empty_text: "No datapoints in the last 15 days".to_owned(),
    };
    view! {
        <Chart spec testid="preview-chart" />
        <p class="legend">
            "Dashed: current threshold " {value_text(current_t)} ". Solid: proposed threshold " {value_text(proposed_t)}
            ". Red bands: when each setting would have been in ALARM (at least 2 px wide at any zoom)."
        </p>
    }
}

/// Alarms and time in ALARM per candidate threshold; picking one (on the
/// chart or in the list) puts it in the threshold field.
#[component]
fn SweepView(sweep: Sweep, current: f64, proposed: f64, pick: RwSignal<String>) -> impl IntoView {
    const W: f64 = 800.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 64.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 180.0;
    let points = sweep.points.clone();
    let (lo, hi) = match (points.first(), points.last()) {
        (Some(first), Some(last)) => (first.threshold, last.threshold),
        _ => (0.0, 1.0),
    };
    let x_ticks = value_ticks(lo, hi, 8);
    let x_domain = (x_ticks.first().map_or(lo, |t| t.value), x_ticks.last().map_or(hi, |t| t.value));
    let x = LinearScale::new(x_domain, (LEFT, W - RIGHT));
    let most_alarms = points.iter().map(|p| f64::from(p.alarm_count)).fold(1.0, f64::max);
    let count_ticks = value_ticks(0.0, most_alarms, 4);
    let count_top = count_ticks.last().map_or(most_alarms, |t| t.value);
    let y = LinearScale::new((0.0, count_top), (BOTTOM, TOP));
    let longest = points.iter().map(|p| p.time_in_alarm_ms).max().unwrap_or(0);
    // Time in ALARM on the right axis, in seconds, minutes or hours as fits;
    // at least one unit tall, so no time in ALARM at all reads "0 s".
    let (unit_ms, unit) = match longest {
        ms if ms >= 3 * 3_600_000 => (3_600_000.0, "h"),
        ms if ms >= 3 * 60_000 => (60_000.0, "min"),
        _ => (1_000.0, "s"),
    };
    let time_ticks = value_ticks(0.0, (longest as f64 / unit_ms).max(1.0), 4);
    let time_top = time_ticks.last().map_or(1.0, |t| t.value);
    let y_time = LinearScale::new((0.0, time_top), (BOTTOM, TOP));

    let step_path = |value: &dyn Fn(&SweepPoint) -> f64, scale: LinearScale| {
        let mut path = String::new();
        for (i, p) in points.iter().enumerate() {
            let (px, py) = (x.map(p.threshold), scale.map(value(p)));
            path.push_str(&format!("{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" }));
        }
        path
    };
    let count_path = step_path(&|p| f64::from(p.alarm_count), y);
    let time_path = step_path(&|p| p.time_in_alarm_ms as f64 / unit_ms, y_time);
    // The proposed label drops a line when the current one (about 6 units
    // a character) would run into it.
    let current_label = format!("current {}", value_text(current));
    let stagger = (x.map(proposed) - x.map(current)).abs() < current_label.chars().count() as f64 * 6.0 + 8.0;
    let marker = |t: f64, class: &'static str, label: String, row: f64| {
        let mx = x.map(t);
        view! {
            <line class=class x1=mx x2=mx y1=TOP y2=BOTTOM></line>
            <text class="chart-threshold-label" x=mx + 3.0 y=TOP + 10.0 + row * 14.0>{label}</text>
        }
    };
    let hovered = RwSignal::new(None::<usize>);
    // One hit column per candidate, so a click picks the nearest threshold.
    let hits = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let left_edge = if i == 0 { LEFT } else { (x.map(points[i - 1].threshold) + x.map(p.threshold)) / 2.0 };
            let right_edge =
                points.get(i + 1).map_or(W - RIGHT, |next| (x.map(p.threshold) + x.map(next.threshold)) / 2.0);
            let text = format!(
                "threshold {}: {} alarms, {} in ALARM",
                value_text(p.threshold),
                p.alarm_count,
                describe_span(p.time_in_alarm_ms)
            );
            let value = value_text(p.threshold);
            view! {
                <rect class="sweep-hit" x=left_edge y=TOP width=(right_edge - left_edge).max(0.5) height=BOTTOM - TOP
                    on:pointerenter=move |_| hovered.set(Some(i)) on:click=move |_| pick.set(value.clone())>
                    <title>{text}</title>
                </rect>
            }
        })
        .collect_view();
    let summary = format!(
        "{} thresholds from {} to {}: between {} and {} alarms over the last 15 days.",
        points.len(),
        value_text(lo),
        value_text(hi),
        points.iter().map(|p| p.alarm_count).min().unwrap_or(0),
        points.iter().map(|p| p.alarm_count).max().unwrap_or(0)
    );
    let options = points.clone();
    let hover_points = points.clone();
    view! {
        <svg class="chart sweep" role="img" aria-label="Threshold sweep" viewBox=format!("0 0 {W} {H}")
            on:pointerleave=move |_| hovered.set(None)>
            <title>"Threshold sweep"</title>
            <desc>{summary}</desc>
            <g class="y-axis">
                {count_ticks.into_iter().map(|t| {
                    let ty = y.map(t.value);
                    view! {
                        <line class="chart-grid" x1=LEFT x2=W - RIGHT y1=ty y2=ty></line>
                        <text class="chart-axis" x=LEFT - 6.0 y=ty + 4.0 text-anchor="end">{t.label}</text>
                    }
                }).collect_view()}
                <text class="chart-axis chart-caption sweep-count-label" x=LEFT y=TOP - 4.0>"Alarms (OK → ALARM)"</text>
                {time_ticks.into_iter().map(|t| view! {
                    <text class="chart-axis" x=W - RIGHT + 6.0 y=y_time.map(t.value) + 4.0>{format!("{} {unit}", t.label)}</text>
                }).collect_view()}
                <text class="chart-axis chart-caption sweep-time-label" x=W - RIGHT y=TOP - 4.0 text-anchor="end">"Time in ALARM"</text>
            </g>
            <g class="x-axis">
                <line class="chart-frame" x1=LEFT x2=W - RIGHT y1=BOTTOM y2=BOTTOM></line>
                {x_ticks.into_iter().map(|t| {
                    let tx = x.map(t.value);
                    view! {
                        <line class="chart-tick" x1=tx x2=tx y1=BOTTOM y2=BOTTOM + 4.0></line>
                        <text class="chart-axis" x=tx y=BOTTOM + 16.0 text-anchor="middle">{t.label}</text>
                    }
                }).collect_view()}
                <text class="chart-axis chart-caption" x=W - RIGHT y=BOTTOM + 32.0 text-anchor="end">"Threshold"</text>
            </g>
            <path class="sweep-count" d=count_path></path>
            <path class="sweep-time" d=time_path></path>
            {marker(current, "chart-threshold", current_label, 0.0)}
            {(proposed != current).then(|| {
                let label = format!("proposed {}", value_text(proposed));
                marker(proposed, "chart-threshold-proposed", label, if stagger { 1.0 } else { 0.0 })
            })}
            <g class="sweep-hits">{hits}</g>
            {move || hovered.get().and_then(|i| hover_points.get(i).copied()).map(|p| {
                let text = format!("threshold {}: {} alarms, {} in ALARM", value_text(p.threshold), p.alarm_count, describe_span(p.time_in_alarm_ms));
                let mx = x.map(p.threshold);
                let width = text.chars().count() as f64 * 6.4 + 12.0;
                let bx = if mx + 8.0 + width > W { (mx - 8.0 - width).max(0.0) } else { mx + 8.0 };
                view! {
                    <g class="chart-hover" aria-hidden="true">
                        <line class="chart-cursor" x1=mx x2=mx y1=TOP y2=BOTTOM></line>
                        <rect class="chart-hover-box" x=bx y=TOP + 14.0 width=width height="20" rx="3"></rect>
                        <text class="chart-hover-text" data-testid="chart-hover" x=bx + 6.0 y=TOP + 28.0>{text}</text>
                    </g>
                }
            })}
        </svg>
        <p class="legend">
            <span class="swatch sweep-count-swatch"></span>"Alarms (left axis) "
            <span class="swatch sweep-time-swatch"></span>"Time in ALARM (right axis). "
            "Click the chart, or choose below, to put a threshold in the form."
        </p>
        <label class="sweep-pick">
            "Threshold from the sweep "
            <select on:change=move |event| {
                let value = event_target_value(&event);
                if !value.is_empty() {
                    pick.set(value);
                }
            }>
                <option value="">"Choose…"</option>
                {options.into_iter().map(|p| {
                    let value = value_text(p.threshold);
                    let label = format!("{value}: {} alarms, {} in ALARM", p.alarm_count, describe_span(p.time_in_alarm_ms));
                    view! { <option value=value>{label}</option> }
                }).collect_view()}
            </select>
        </label>
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
