//! `make bench`: the alarm replay behind the threshold page, reported as
//! ratios against the live evaluator measured in the same process.
//!
//! - Throughput: [`replay_prepared`] over 15 days of 10-second datapoints
//!   (129,600 evaluation instants) for 100 thresholds of two settings, in
//!   evaluations per second, against [`evaluate`] called at every
//!   evaluation instant, the way a live alarm is evaluated. The naive way
//!   runs over one day and a few thresholds only, so it ends in seconds.
//! - Preview: the console's preview computation (one [`PreparedSeries::prepare`],
//!   the replays of the current and a proposed setting over 15 days, the
//!   chart shrunk to 600 buckets), against what the naive
//!   way would take for the same evaluations at its measured rate.
//!
//! - Threshold sweep: the Alarms page's sweep ([`threshold_sweep`]: one
//!   prepare, 100 candidate thresholds spanning the data plus one more,
//!   over 15 days) against 100 single replays (one prepare, then
//!   [`replay_prepared`] per candidate) in the same process. Target: ≤ 100 ms.
//!
//! Replay and the naive evaluations must give the same transitions on the
//! day both cover, and the sweep the same counts as the single replays, or
//! the bench fails: a faster wrong answer is no answer.

use std::hint::black_box;
use std::time::Instant;

use keywatch_domain::alarm::{
    AlarmState, MetricAlarm, MetricSample, PreparedSeries, StateTransition, StateValue, Sweep, TreatMissingData,
    evaluate, evaluation_cadence_seconds, evaluation_range_len, replay_prepared, sweep_prepared, threshold_sweep,
};

const DAY_MS: i64 = 86_400_000;
const DAYS: i64 = 15;
const PERIOD_S: u32 = 10;
/// Thresholds per setting in the throughput run: 0.0 to 9.9 by tenths.
const THRESHOLDS: u32 = 100;
/// What the naive way covers: enough evaluations for a stable rate, few
/// enough to end in seconds.
const NAIVE_DAYS: i64 = 1;
const NAIVE_THRESHOLDS: [f64; 4] = [0.0, 1.0, 2.0, 4.0];
const ROUNDS: usize = 3;
const PREVIEW_ROUNDS: usize = 5;
/// Chart buckets the console sends for a preview.
const CHART_POINTS: usize = 600;

/// The lab's alarm (lab.md, stack 3): Sum > 1 over 10 s, 1 of 1, missing data ignored.
fn lab_alarm() -> MetricAlarm {
    MetricAlarm {
        period: PERIOD_S,
        alarm_actions: vec!["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic".into()],
        ..MetricAlarm::lab()
    }
}

/// A setting the console might propose: 3 of 5, gaps not breaching. Same
/// statistic and period, so it replays on the same prepared series.
fn three_of_five(threshold: f64) -> MetricAlarm {
    MetricAlarm {
        evaluation_periods: 5,
        datapoints_to_alarm: Some(3),
        treat_missing_data: TreatMissingData::NotBreaching,
        threshold,
        ..lab_alarm()
    }
}

/// Both settings at `threshold`.
fn settings(threshold: f64) -> [MetricAlarm; 2] {
    [MetricAlarm { threshold, ..lab_alarm() }, three_of_five(threshold)]
}

/// SplitMix64: a deterministic series without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `KMSSecurityError` over `days`, sorted by time: each failed KMS call
/// publishes 1 and a quiet period publishes 0 (a metric filter with a
/// default value). Most periods hold 0 or 1; now and then a burst of
/// wrong-key retries lasts a minute or more; 2 % of periods are lost in
/// delivery, so missing data is exercised too.
fn kms_failures(days: i64) -> Vec<MetricSample> {
    let period_ms = i64::from(PERIOD_S) * 1_000;
    let mut rng = Rng(0x4B4D_5346_4149_4C53);
    let mut samples = Vec::new();
    let mut burst_left = 0;
    for period in 0..days * DAY_MS / period_ms {
        let start = period * period_ms;
        if rng.below(100) < 2 {
            continue;
        }
        if burst_left == 0 && rng.below(1_000) < 2 {
            burst_left = 6 + rng.below(55);
        }
        let failures = if burst_left > 0 {
            burst_left -= 1;
            2 + rng.below(7) as i64
        } else {
            match rng.below(100) {
                0..=84 => 0,
                85..=97 => 1,
                _ => 2,
            }
        };
        if failures == 0 {
            samples.push(MetricSample::Value { timestamp_ms: start + 500, value: 0.0 });
        }
        // Spread within the period, in time order.
        for i in 0..failures {
            samples.push(MetricSample::Value { timestamp_ms: start + 500 + i * period_ms / 10, value: 1.0 });
        }
    }
    samples
}

/// The naive way: `evaluate` at every evaluation instant up to `to_ms`, fed
/// the samples of the evaluation range as a time-indexed store would
/// return them. Returns the transitions and the number of evaluations.
fn naive(alarm: &MetricAlarm, samples: &[MetricSample], to_ms: i64) -> (Vec<StateTransition>, u64) {
    let cadence_ms = i64::from(evaluation_cadence_seconds(alarm)) * 1_000;
    let span_ms = evaluation_range_len(alarm) as i64 * i64::from(alarm.period) * 1_000;
    let mut state = AlarmState::initial(0);
    let mut transitions = Vec::new();
    let mut evaluations = 0;
    let mut now = cadence_ms;
    while now <= to_ms {
        let from = samples.partition_point(|s| s.timestamp_ms() < now - span_ms);
        let to = samples.partition_point(|s| s.timestamp_ms() < now);
        let eval = evaluate(alarm, &samples[from..to], now, &state).expect("evaluate");
        if eval.changed {
            transitions.push(StateTransition {
                timestamp_ms: now,
                old_state: state.state_value,
                new_state: eval.state.state_value,
            });
        }
        state = eval.state;
        evaluations += 1;
        now += cadence_ms;
    }
    (transitions, evaluations)
}

/// One naive round over every setting: (evaluations, seconds).
fn naive_round(samples: &[MetricSample], to_ms: i64) -> (u64, f64) {
    let started = Instant::now();
    let mut evaluations = 0;
    for threshold in NAIVE_THRESHOLDS {
        for alarm in settings(threshold) {
            let (transitions, count) = naive(&alarm, samples, to_ms);
            black_box(transitions);
            evaluations += count;
        }
    }
    (evaluations, started.elapsed().as_secs_f64())
}

/// One replay round: every threshold of both settings over the prepared
/// series: (evaluations, seconds).
fn replay_round(series: &PreparedSeries) -> (u64, f64) {
    let started = Instant::now();
    let mut evaluations = 0;
    for step in 0..THRESHOLDS {
        for alarm in settings(f64::from(step) / 10.0) {
            let replay = replay_prepared(series, &alarm, StateValue::InsufficientData).expect("replay");
            assert_eq!(replay.evaluations, (DAYS * DAY_MS / 10_000) as u64);
            evaluations += black_box(replay).evaluations;
        }
    }
    (evaluations, started.elapsed().as_secs_f64())
}

/// The threshold page's preview as the console computes it
/// ([`keywatch_domain::alarm::preview`]): prepare, replay the current and a
/// proposed setting, and shrink the result to the 600 chart buckets sent to
/// the browser. Returns seconds.
fn preview(samples: &[MetricSample]) -> f64 {
    let started = Instant::now();
    let result = keywatch_domain::alarm::preview(
        &lab_alarm(),
        &three_of_five(2.0),
        samples,
        0,
        DAYS * DAY_MS,
        StateValue::InsufficientData,
        CHART_POINTS,
    )
    .expect("preview");
    assert!(result.buckets.len() <= CHART_POINTS);
    black_box(result);
    started.elapsed().as_secs_f64()
}

/// Candidate thresholds the sweep case asks for, as the Alarms page does.
const SWEEP_CANDIDATES: usize = 100;
const SWEEP_ROUNDS: usize = 5;

/// 100 candidates, 0.0 to 9.9 by tenths (the data's range), plus the alarm's own.
fn sweep_thresholds(alarm: &MetricAlarm) -> Vec<f64> {
    (0..SWEEP_CANDIDATES).map(|step| step as f64 / 10.0).chain([alarm.threshold + 0.05]).collect()
}

/// The Alarms page's sweep for `alarm` over 15 days, prepare included: (sweep, seconds).
fn sweep_once(alarm: &MetricAlarm, samples: &[MetricSample]) -> (Sweep, f64) {
    let started = Instant::now();
    let series = PreparedSeries::prepare(alarm, samples, 0, DAYS * DAY_MS).expect("prepare");
    let sweep = sweep_prepared(&series, alarm, &sweep_thresholds(alarm), StateValue::InsufficientData).expect("sweep");
    (black_box(sweep), started.elapsed().as_secs_f64())
}

/// The same candidates replayed one by one on one prepared series, checked
/// against the sweep: seconds.
fn single_replays(alarm: &MetricAlarm, samples: &[MetricSample], sweep: &Sweep) -> f64 {
    let started = Instant::now();
    let series = PreparedSeries::prepare(alarm, samples, 0, DAYS * DAY_MS).expect("prepare");
    let mut replays = Vec::with_capacity(sweep.points.len());
    for point in &sweep.points {
        let single = MetricAlarm { threshold: point.threshold, ..alarm.clone() };
        replays.push(replay_prepared(&series, &single, StateValue::InsufficientData).expect("replay"));
    }
    let seconds = started.elapsed().as_secs_f64();
    for (point, replay) in sweep.points.iter().zip(&replays) {
        assert_eq!(point.alarm_count, replay.alarm_count, "threshold {}", point.threshold);
        assert_eq!(point.time_in_alarm_ms, replay.time_in_alarm_ms, "threshold {}", point.threshold);
    }
    seconds
}

/// Replay and the naive evaluations agree on the slice both cover.
fn check_agreement(samples: &[MetricSample], to_ms: i64) {
    for threshold in NAIVE_THRESHOLDS {
        for alarm in settings(threshold) {
            let series = PreparedSeries::prepare(&alarm, samples, 0, to_ms).expect("prepare");
            let replay = replay_prepared(&series, &alarm, StateValue::InsufficientData).expect("replay");
            let (transitions, evaluations) = naive(&alarm, samples, to_ms);
            assert_eq!(replay.evaluations, evaluations, "{}", alarm.describe_condition());
            assert_eq!(replay.transitions, transitions, "{}", alarm.describe_condition());
            // Agreeing on "never changes" would prove little.
            assert!(!transitions.is_empty(), "{}", alarm.describe_condition());
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let samples = kms_failures(DAYS);
    let naive_to_ms = NAIVE_DAYS * DAY_MS;
    let naive_samples = &samples[..samples.partition_point(|s| s.timestamp_ms() < naive_to_ms)];
    check_agreement(naive_samples, naive_to_ms);

    let started = Instant::now();
    let series = PreparedSeries::prepare(&lab_alarm(), &samples, 0, DAYS * DAY_MS).expect("prepare");
    let prepare_s = started.elapsed().as_secs_f64();

    // Warm up both, then interleave rounds so drift in machine load
    // affects both sides alike.
    replay_round(&series);
    naive_round(naive_samples, naive_to_ms);
    let (mut replay_rates, mut naive_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (evaluations, seconds) = replay_round(&series);
        replay_rates.push(evaluations as f64 / seconds);
        let (evaluations, seconds) = naive_round(naive_samples, naive_to_ms);
        naive_rates.push(evaluations as f64 / seconds);
    }
    let (replay_rate, naive_rate) = (median(replay_rates), median(naive_rates));

    let preview_s = median((0..PREVIEW_ROUNDS).map(|_| preview(&samples)).collect());
    let periods = DAYS * DAY_MS / (i64::from(PERIOD_S) * 1_000);
    // The same two settings evaluated the naive way, at its measured rate.
    let naive_preview_s = 2.0 * periods as f64 / naive_rate;

    println!("bench alarm_replay_15_days_of_10s_datapoints");
    println!(
        "  series:         {periods:>10} periods, {} samples, prepared in {:.1} ms",
        samples.len(),
        prepare_s * 1e3
    );
    println!(
        "  replay:         {replay_rate:>10.0} evaluations/s ({THRESHOLDS} thresholds x 2 settings x 15 days, median of {ROUNDS})"
    );
    println!(
        "  naive evaluate: {naive_rate:>10.0} evaluations/s ({} thresholds x 2 settings x {NAIVE_DAYS} day, same process)",
        NAIVE_THRESHOLDS.len()
    );
    println!("  ratio:          {:>10.1} (replay / naive)", replay_rate / naive_rate);
    println!("bench alarm_preview_15_days");
    println!(
        "  preview:        {:>10.1} ms (prepare + current and proposed setting + {CHART_POINTS} chart buckets, median of {PREVIEW_ROUNDS})",
        preview_s * 1e3
    );
    println!(
        "  naive:          {:>10.1} ms (the same {} evaluations at the naive rate)",
        naive_preview_s * 1e3,
        2 * periods
    );
    println!("  ratio:          {:>10.1} (naive / preview)", naive_preview_s / preview_s);

    for (name, alarm) in [("lab alarm, 1 of 1", lab_alarm()), ("3 of 5, notBreaching", three_of_five(2.0))] {
        let (sweep, _) = sweep_once(&alarm, &samples);
        let replays_s = single_replays(&alarm, &samples, &sweep);
        let sweep_s = median((0..SWEEP_ROUNDS).map(|_| sweep_once(&alarm, &samples).1).collect());
        // What the page runs: candidates on a nice step over the data's range.
        let started = Instant::now();
        let page =
            threshold_sweep(&alarm, &samples, 0, DAYS * DAY_MS, StateValue::InsufficientData, 100, &[alarm.threshold])
                .expect("sweep");
        let page_s = started.elapsed().as_secs_f64();
        println!("bench threshold_sweep_15_days ({name})");
        println!(
            "  sweep:          {:>10.1} ms ({} candidates x {} evaluations, prepare included, median of {SWEEP_ROUNDS}; target <= 100 ms)",
            sweep_s * 1e3,
            sweep.points.len(),
            sweep.evaluations
        );
        println!(
            "  page's sweep:   {:>10.1} ms ({} nice-step candidates over the data's range, one run)",
            page_s * 1e3,
            page.points.len()
        );
        println!(
            "  single replays: {:>10.1} ms (the same candidates replayed one by one, same process)",
            replays_s * 1e3
        );
        println!("  ratio:          {:>10.1} (single replays / sweep)", replays_s / sweep_s);
    }
}
