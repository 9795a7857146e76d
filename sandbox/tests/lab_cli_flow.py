"""The lab's own command-line steps, run unchanged against `keywatch sandbox`.

Usage: lab_cli_flow.py ENDPOINT_URL

Deploys the three stacks with `aws cloudformation create-stack` (the lab's
commands, with --endpoint-url added), reads the outputs with
`describe-stacks --query`, sends the lab's curl requests (encrypt, decrypt
with the right key, decrypt with a false key) to the load balancer's DNS
name, sees the alarm fire, and tears down in the lab's order, emptying the
ECR repository first and removing the retained trail bucket last.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

ENDPOINT = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "cloudformation")


def aws(*args):
    """Runs the AWS CLI against the sandbox and returns its parsed JSON (or None)."""
    command = ["aws", "--endpoint-url", ENDPOINT, "--region", "ap-southeast-2", "--output", "json", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args[:2])} failed: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else None


def output(stack, key):
    outputs = aws("cloudformation", "describe-stacks", "--stack-name", stack, "--query", "Stacks[0].Outputs")
    for item in outputs:
        if item["OutputKey"] == key:
            return item["OutputValue"]
    raise AssertionError(f"{stack} has no output {key}")


def parsed(raw):
    """A JSON body as data; anything else (the health check's `OK`) as text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, parsed(response.read())
    except urllib.error.HTTPError as error:
        return error.code, parsed(error.read())
    except (urllib.error.URLError, ConnectionError):
        return 0, None


def wait_for(predicate, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


# Other checks may share this sandbox: only what the lab leaves counts.
buckets_before = {b["Name"] for b in aws("s3api", "list-buckets")["Buckets"]}

# Section 1: the base network.
aws("cloudformation", "create-stack", "--stack-name", "pattern1-base",
    "--template-body", f"file://{TEMPLATES}/base.yaml")
aws("cloudformation", "wait", "stack-create-complete", "--stack-name", "pattern1-base")
repository_uri = output("pattern1-base", "OutputPattern1AppContainerRepositoryUri")
# The lab's build-container.sh, its two queries verbatim: the repository's
# name from the lab's output key, account and Region from the stack id.
repository = aws("cloudformation", "describe-stacks", "--stack-name", "pattern1-base", "--query",
                 "Stacks[0].Outputs[?OutputKey==`OutputPattern1AppContainerRepository`].OutputValue |[0]")
stack_id = aws("cloudformation", "describe-stacks", "--stack-name", "pattern1-base", "--query", "Stacks[0].StackId")
_, _, _, region, account, _ = stack_id.split(":")
assert f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}" == repository_uri, (repository, repository_uri)

# Section 2: the application (no image push in the sandbox: it runs the workload itself).
aws("cloudformation", "create-stack", "--stack-name", "pattern1-app",
    "--template-body", f"file://{TEMPLATES}/application.yaml",
    "--parameters", "ParameterKey=BaselineVpcStack,ParameterValue=pattern1-base",
    f"ParameterKey=ECRImageURI,ParameterValue={repository_uri}:latest",
    "--capabilities", "CAPABILITY_NAMED_IAM")
aws("cloudformation", "wait", "stack-create-complete", "--stack-name", "pattern1-app")
endpoint = output("pattern1-app", "OutputPattern1ApplicationEndpoint")
task_role = output("pattern1-app", "OutputPattern1ECSTaskRole")

# Section 3: logging and alarm, given the task role.
aws("cloudformation", "create-stack", "--stack-name", "pattern1-logging",
    "--template-body", f"file://{TEMPLATES}/logging.yaml",
    "--parameters", f"ParameterKey=AppECSTaskRoleArn,ParameterValue={task_role}",
    "ParameterKey=EmailAddress,ParameterValue=security@example.com",
    "--capabilities", "CAPABILITY_NAMED_IAM")
aws("cloudformation", "wait", "stack-create-complete", "--stack-name", "pattern1-logging")

# Section 4: the lab's curl requests, against the load balancer's DNS name.
base_url = endpoint if endpoint.startswith("http") else f"http://{endpoint}"
wait_for(lambda: request("GET", f"{base_url}/") == (200, "OK") or None, "the application's health check")
status, body = request("POST", f"{base_url}/encrypt", {"Name": "Bob", "Text": "Run your own race"})
assert status == 200 and body["Message"] == "Data encrypted and stored, keep your key save", body
key = body["Key"]
status, body = request("GET", f"{base_url}/decrypt", {"Name": "Bob", "Key": key})
assert (status, body) == (200, {"Text": "Run your own race"}), (status, body)
for _ in range(3):
    status, body = request("GET", f"{base_url}/decrypt", {"Name": "Bob", "Key": "some-random-false-key"})
    assert status == 400 and body["Message"] == "Data decryption failed, make sure you have the correct key", body
    time.sleep(1)


# Under the lab's stack name the alarm has the lab template's name. Other
# checks may leave their own alarms firing in this sandbox: only this one
# counts.
LAB_ALARM = "Pattern1ApplicationKMSSecurityAlarm"


def lab_alarm_fires():
    """Another false key, as the lab's reader keeps sending them, until the
    alarm is in ALARM: more than one failure must land in one 10 s period."""
    alarms = aws("cloudwatch", "describe-alarms", "--alarm-names", LAB_ALARM)["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == [LAB_ALARM], alarms
    if alarms[0]["StateValue"] == "ALARM":
        return True
    status, body = request("GET", f"{base_url}/decrypt", {"Name": "Bob", "Key": "some-random-false-key"})
    assert status == 400, (status, body)
    time.sleep(0.5)
    return None


wait_for(lab_alarm_fires, "the lab's alarm to fire", seconds=60)

# The lab's exports, under the lab's names, for stacks built on these.
exports = {e["Name"]: e["Value"] for e in aws("cloudformation", "list-exports")["Exports"]}
for name, stack, key in [
    ("pattern1-app-ALB", "pattern1-app", "OutputPattern1ALB"),
    ("pattern1-app-ApplicationEndpoint", "pattern1-app", "OutputPattern1ApplicationEndpoint"),
    ("pattern1-app-ApplicationTaskRole", "pattern1-app", "OutputPattern1ECSTaskRole"),
    ("pattern1-app-ELBSecurityGroup", "pattern1-app", "OutputPattern1ELBSecurityGroup"),
    ("pattern1-base-VpcId", "pattern1-base", "OutputPattern1VPC"),
    ("pattern1-logging-Pattern1CloudWatchLogGroup", "pattern1-logging", "OutputPattern1CloudWatchLogGroup"),
    ("pattern1-logging-Pattern1CloudTrail", "pattern1-logging", "OutputPattern1CloudTrail"),
]:
    assert exports.get(name) == output(stack, key), (name, exports.get(name))

# Teardown in the lab's order: empty the repository, delete the stacks, then
# the retained trail bucket.
images = aws("ecr", "list-images", "--repository-name", repository)["imageIds"]
if images:
    aws("ecr", "batch-delete-image", "--repository-name", repository, "--image-ids", json.dumps(images))
trail_bucket = output("pattern1-logging", "OutputPattern1TrailBucket")
for stack in ("pattern1-logging", "pattern1-app", "pattern1-base"):
    aws("cloudformation", "delete-stack", "--stack-name", stack)
    aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack)
remaining = aws("cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "UPDATE_COMPLETE")
assert remaining["StackSummaries"] == [], remaining
buckets = {b["Name"] for b in aws("s3api", "list-buckets")["Buckets"]} - buckets_before
assert buckets == {trail_bucket}, buckets
subprocess.run(["aws", "--endpoint-url", ENDPOINT, "s3", "rb", "--force", f"s3://{trail_bucket}"],
               check=True, capture_output=True)
assert {b["Name"] for b in aws("s3api", "list-buckets")["Buckets"]} == buckets_before
print("lab CLI flow: ok")
