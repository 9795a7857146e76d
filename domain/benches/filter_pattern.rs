//! `make bench`: the lab's metric-filter pattern (lab.md, stack 3) matched
//! against one million generated CloudTrail records, reported as a ratio
//! against `jq` making the same selection over the same file, so that
//! machine speed cancels out. Keywatch reads the file first, so both read
//! it from the page cache rather than the disk.
//!
//! Keywatch reads the file line by line and counts matches with
//! [`FilterPattern::matches`], as a metric filter sees one event per line;
//! `jq` runs as a subprocess and counts with its own `reduce`. Both counts
//! must agree, or the bench fails: a ratio between two different selections
//! would mean nothing.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use keywatch_domain::filter_pattern::FilterPattern;

const RECORDS: u64 = 1_000_000;
/// Keywatch's pass is cheap, so its median over a few rounds is reported;
/// jq's single pass takes long enough that noise matters less.
const KEYWATCH_ROUNDS: usize = 3;

const ACCOUNT: &str = "111122223333";
const TASK_ROLE_ARN: &str = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";

/// The lab's pattern verbatim (note `$.eventSource=` without a space).
fn lab_pattern() -> String {
    format!(
        r#"{{ $.errorCode = "*" && $.eventSource= "kms.amazonaws.com" && $.userIdentity.sessionContext.sessionIssuer.arn = "{TASK_ROLE_ARN}" }}"#
    )
}

/// The same selection in jq. `$.errorCode = "*"` holds when the property is
/// a string or a number (a wildcard compares with the value's text; null,
/// booleans, objects and arrays never match: `filter_pattern/json.rs`), and
/// a missing property matches nothing, which jq reads as null.
fn jq_program() -> String {
    format!(
        r#"reduce (inputs | select((.errorCode | type) as $t | ($t == "string" or $t == "number")
            and .eventSource == "kms.amazonaws.com"
            and .userIdentity.sessionContext.sessionIssuer.arn == "{TASK_ROLE_ARN}")) as $_ (0; . + 1)"#
    )
}

/// SplitMix64: deterministic records without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..100`, for percentages.
    fn percent(&mut self) -> u64 {
        self.next() % 100
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// An access key or principal id suffix: 16 upper-case letters and digits.
    fn key_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let halves = [self.next(), self.next()];
        (0..16).map(|i| ALPHABET[((halves[i / 8] >> (i % 8 * 5)) & 31) as usize] as char).collect()
    }
}

/// Roles that assume sessions. A role whose name extends the task role's
/// contains the pattern's text yet is not equal to it, so the matcher's
/// substring pre-check cannot decide alone.
const ROLES: [&str; 4] = [
    "pattern1-app-Pattern1ECSTaskRole",
    "pattern1-app-Pattern1ECSTaskExecutionRole",
    "pattern1-logging-CloudTrailToCloudWatchLogsRole",
    "pattern1-app-Pattern1ECSTaskRole-canary",
];
const USERS: [&str; 3] = ["alice", "bob", "deploy-bot"];
const KEY_IDS: [&str; 3] = [
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "0987dcba-09fe-87dc-65ba-ab0987654321",
    "5c1f7a9e-3b2d-4e8f-9a6c-7d0e1f2a3b4c",
];

/// Appends one CloudTrail record (eventVersion 1.11 shape) and a newline.
fn write_record(out: &mut String, index: u64, rng: &mut Rng) -> std::fmt::Result {
    // Spread one day over the file: 1M records at 86 ms apart.
    let second = index * 86 / 1_000;
    let (h, m, s) = (second / 3_600 % 24, second / 60 % 60, second % 60);
    let event_time = format!("2026-11-26T{h:02}:{m:02}:{s:02}Z");

    let source = match rng.percent() {
        0..=84 => "kms.amazonaws.com",
        85..=90 => "s3.amazonaws.com",
        91..=95 => "sts.amazonaws.com",
        _ => "logs.amazonaws.com",
    };
    let event_name = match source {
        "kms.amazonaws.com" => rng.pick(&["Decrypt", "Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"]),
        "s3.amazonaws.com" => rng.pick(&["GetBucketAcl", "PutBucketPolicy", "GetBucketEncryption"]),
        "sts.amazonaws.com" => rng.pick(&["AssumeRole", "GetCallerIdentity"]),
        _ => rng.pick(&["CreateLogStream", "DescribeLogGroups"]),
    };
    let key_arn = format!("arn:aws:kms:ap-southeast-2:{ACCOUNT}:key/{}", rng.pick(&KEY_IDS));

    out.push_str(r#"{"eventVersion":"1.11","userIdentity":"#);
    let identity = rng.percent();
    if identity < 70 {
        let role = match rng.percent() {
            0..=64 => ROLES[0],
            65..=79 => ROLES[1],
            80..=92 => ROLES[2],
            _ => ROLES[3],
        };
        let (role_id, session) = (rng.key_id(), format!("{:016x}", rng.next()));
        write!(
            out,
            r#"{{"type":"AssumedRole","principalId":"AROA{role_id}:{session}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}","accountId":"{ACCOUNT}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{role_id}","arn":"arn:aws:iam::{ACCOUNT}:role/{role}","accountId":"{ACCOUNT}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2026-11-26T{h:02}:00:00Z","mfaAuthenticated":"false"}}}}}}"#,
            rng.key_id()
        )?;
    } else if identity < 95 {
        let user = rng.pick(&USERS);
        write!(
            out,
            r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"arn:aws:iam::{ACCOUNT}:user/{user}","accountId":"{ACCOUNT}","accessKeyId":"AKIA{}","userName":"{user}"}}"#,
            rng.key_id(),
            rng.key_id()
        )?;
    } else {
        // CloudTrail's own calls to its trail key.
        out.push_str(r#"{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}"#);
    }

    let user_agent = if rng.percent() == 0 {
        // A few escaped quotes: the matcher must then parse rather than
        // trust its verbatim-text pre-check.
        r#"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/kms.decrypt \"kw-lab\""#
    } else {
        rng.pick(&[
            "aws-sdk-nodejs/2.1502.0 linux/v18.18.2 exec-env/AWS_ECS_FARGATE promise",
            "aws-internal/3 aws-sdk-java/1.12.576 Linux/5.10.198 OpenJDK_64-Bit_Server_VM/25.382-b06",
            "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.6",
        ])
    };
    write!(
        out,
        r#","eventTime":"{event_time}","eventSource":"{source}","eventName":"{event_name}","awsRegion":"ap-southeast-2","sourceIPAddress":"172.31.{}.{}","userAgent":"{user_agent}""#,
        [2, 4][(index % 2) as usize],
        rng.next() % 250 + 2
    )?;

    if rng.percent() < 10 {
        let (code, message) = match source {
            "kms.amazonaws.com" => match rng.percent() {
                0..=49 => (
                    "IncorrectKeyException",
                    "The key ID in the request does not identify a CMK that can perform this operation.".to_owned(),
                ),
                50..=84 => ("NotFoundException", "Invalid keyId 'some-random-false-key'".to_owned()),
                _ => (
                    "AccessDeniedException",
                    format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/x is not authorized to perform: kms:Decrypt"),
                ),
            },
            _ => ("AccessDenied", "Access Denied".to_owned()),
        };
        write!(out, r#","errorCode":"{code}","errorMessage":"{message}""#)?;
    }

    let context = rng.uuid();
    match (source, event_name) {
        ("kms.amazonaws.com", "Decrypt") => write!(
            out,
            r#","requestParameters":{{"keyId":"{key_arn}","encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{"app":"pattern1"}}}},"responseElements":null"#
        )?,
        ("kms.amazonaws.com", "Encrypt") => write!(
            out,
            r#","requestParameters":{{"keyId":"{key_arn}","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}},"responseElements":null"#
        )?,
        ("kms.amazonaws.com", "GenerateDataKey") => {
            write!(out, r#","requestParameters":{{"keyId":"{key_arn}","keySpec":"AES_256"}},"responseElements":null"#)?
        }
        ("kms.amazonaws.com", _) => {
            out.push_str(r#","requestParameters":{"keyId":"alias/pattern1-app-key"},"responseElements":null"#)
        }
        ("s3.amazonaws.com", _) => write!(
            out,
            r#","requestParameters":{{"bucketName":"pattern1-logging-trailbucket","Host":"pattern1-logging-trailbucket.s3.ap-southeast-2.amazonaws.com","acl":""}},"responseElements":null"#
        )?,
        ("sts.amazonaws.com", _) => write!(
            out,
            r#","requestParameters":{{"roleArn":"arn:aws:iam::{ACCOUNT}:role/{}","roleSessionName":"{context}"}},"responseElements":null"#,
            rng.pick(&ROLES)
        )?,
        _ => write!(
            out,
            r#","requestParameters":{{"logGroupName":"pattern1-logging-loggroup","logStreamName":"{ACCOUNT}_CloudTrail_ap-southeast-2_{context}"}},"responseElements":null"#
        )?,
    }
    let (resource_type, resource_arn) = match source {
        "kms.amazonaws.com" => ("AWS::KMS::Key", key_arn),
        "s3.amazonaws.com" => ("AWS::S3::Bucket", "arn:aws:s3:::pattern1-logging-trailbucket".to_owned()),
        "sts.amazonaws.com" => ("AWS::IAM::Role", format!("arn:aws:iam::{ACCOUNT}:role/{}", ROLES[0])),
        _ => (
            "AWS::Logs::LogGroup",
            format!("arn:aws:logs:ap-southeast-2:{ACCOUNT}:log-group:pattern1-logging-loggroup"),
        ),
    };
    write!(
        out,
        r#","requestID":"{}","eventID":"{}","readOnly":{},"resources":[{{"accountId":"{ACCOUNT}","type":"{resource_type}","ARN":"{resource_arn}"}}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{ACCOUNT}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}.ap-southeast-2.amazonaws.com"}}}}"#,
        rng.uuid(),
        rng.uuid(),
        event_name.starts_with("Get") || event_name.starts_with("Describe") || event_name == "Decrypt",
        source.trim_end_matches(".amazonaws.com")
    )?;
    out.push('\n');
    Ok(())
}

/// Removes the generated file when the bench ends, panics included.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes the records; returns the file's size in bytes.
fn generate(path: &Path) -> u64 {
    let mut file = BufWriter::with_capacity(1 << 20, File::create(path).expect("create the records file"));
    let mut rng = Rng(0x4B45_5957_4154_4348);
    let mut line = String::with_capacity(2_048);
    let mut bytes = 0;
    for index in 0..RECORDS {
        line.clear();
        write_record(&mut line, index, &mut rng).expect("format a record");
        file.write_all(line.as_bytes()).expect("write a record");
        bytes += line.len() as u64;
    }
    file.flush().expect("flush the records file");
    bytes
}

/// Keywatch's pass: (matches, seconds).
fn keywatch_count(pattern: &FilterPattern, path: &Path) -> (u64, f64) {
    let started = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).expect("open the records file"));
    let mut line = String::with_capacity(2_048);
    let (mut matches, mut records) = (0u64, 0u64);
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("read a record") == 0 {
            break;
        }
        records += 1;
        matches += u64::from(pattern.matches(line.trim_end_matches('\n')));
    }
    assert_eq!(records, RECORDS, "Keywatch read every record");
    (matches, started.elapsed().as_secs_f64())
}

/// jq's pass: (matches, seconds), or `None` when jq is not installed.
fn jq_count(path: &Path) -> Option<(String, u64, f64)> {
    let version = Command::new("jq").arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let started = Instant::now();
    let output = Command::new("jq").arg("-n").arg(jq_program()).arg(path).output().expect("run jq");
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "jq failed: {}", String::from_utf8_lossy(&output.stderr));
    let count = String::from_utf8_lossy(&output.stdout).trim().parse().expect("jq prints a count");
    Some((version, count, seconds))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let pattern = FilterPattern::parse(&lab_pattern()).expect("the lab's pattern parses");
    let file = TempFile(std::env::temp_dir().join(format!("keywatch-bench-cloudtrail-{}.jsonl", std::process::id())));
    let bytes = generate(&file.0);

    // The first pass also warms the page cache for every later reader.
    let (matches, _) = keywatch_count(&pattern, &file.0);
    assert!(matches > 0 && matches < RECORDS, "the selection must be neither empty nor everything");
    let mut seconds = Vec::new();
    for _ in 0..KEYWATCH_ROUNDS {
        let (again, s) = keywatch_count(&pattern, &file.0);
        assert_eq!(again, matches);
        seconds.push(s);
    }
    let keywatch_rate = RECORDS as f64 / median(seconds);

    println!("bench filter_pattern_lab_over_cloudtrail");
    println!(
        "  records:        {RECORDS:>10} ({:.0} MB, {} bytes/record), {matches} matches",
        bytes as f64 / 1e6,
        bytes / RECORDS
    );
    println!("  keywatch:       {keywatch_rate:>10.0} records/s (median of {KEYWATCH_ROUNDS})");
    match jq_count(&file.0) {
        Some((version, jq_matches, jq_seconds)) => {
            assert_eq!(jq_matches, matches, "jq and Keywatch selected different records");
            let jq_rate = RECORDS as f64 / jq_seconds;
            println!("  {:<15} {jq_rate:>10.0} records/s (same selection, same file)", format!("{version}:"));
            println!("  ratio:          {:>10.2} (keywatch / jq)", keywatch_rate / jq_rate);
        }
        None => println!("  jq:             skipped: jq is not installed (`scripts/setup.sh bench` installs it)"),
    }
}
