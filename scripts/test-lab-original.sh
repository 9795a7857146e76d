#!/usr/bin/env bash
# The lab's own files and commands, unmodified, against `keywatch sandbox`:
# the three original templates in ../shared/lab-original/ deployed with the
# AWS CLI as its SOURCES.md lists (the app template once unmodified, which
# CloudFormation refuses on its `NAME:` typo, then with only that line
# corrected in a temporary copy), the lab's curl calls until the alarm
# fires and its e-mail is sent, a stack update rolling the service's task
# onto a new task definition, then the lab's teardown (ECS service and
# cluster from the CLI, the stacks) plus what it forgets (the logging
# stack, the retained trail bucket, the RDS final snapshot), and a check
# that nothing is left.
set -euo pipefail

originals="${KEYWATCH_LAB_ORIGINALS:-$(dirname "$0")/../../shared/lab-original}"
if [ ! -f "$originals/pattern1-app.yml" ]; then
  echo "skipped: the lab's original templates are not at $originals"
  exit 0
fi
originals="$(cd "$originals" && pwd)"
# shellcheck source=scripts/cli-sandbox.sh
. "$(dirname "$0")/cli-sandbox.sh"

aws_() { aws --endpoint-url "$endpoint" "$@"; }

passed=0
failed=0
# Each step runs in a subshell with `set -e` in force (bash ignores it for
# anything called in an `if`), so any failing command fails the step, not
# only its last one.
step() {
  local name="$1" status
  shift
  set +e
  (
    set -e
    "$@"
  )
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    failed=$((failed + 1))
    tail -20 "$state/sandbox.log" || true
    echo "$passed passed, $failed failed"
    exit 1
  fi
}

# Waits for a stack to leave *_IN_PROGRESS and checks the status it ends in.
stack_ends_in() {
  local stack="$1" wanted="$2" status=""
  for _ in $(seq 1 180); do
    status="$(aws_ cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo GONE)"
    case "$status" in *_IN_PROGRESS) sleep 1 ;; *) break ;; esac
  done
  [ "$status" = "$wanted" ] || { echo "$stack: $status, wanted $wanted"; return 1; }
}

output() {
  aws_ cloudformation describe-stacks --stack-name "$1" --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

base() {
  aws_ cloudformation create-stack --stack-name pattern1-base --template-body "file://$originals/pattern1-base.yml" >/dev/null
  stack_ends_in pattern1-base CREATE_COMPLETE
  # The lab's build script reads this output for the repository.
  [ -n "$(output pattern1-base OutputPattern1AppContainerRepository)" ]
}

app_unmodified_refused() {
  local repository
  repository="$(output pattern1-base OutputPattern1AppContainerRepository)"
  aws_ cloudformation create-stack --stack-name pattern1-app-as-published \
    --template-body "file://$originals/pattern1-app.yml" \
    --parameters ParameterKey=BaselineVpcStack,ParameterValue=pattern1-base "ParameterKey=ECRImageURI,ParameterValue=$repository:latest" \
    --capabilities CAPABILITY_NAMED_IAM >/dev/null
  stack_ends_in pattern1-app-as-published ROLLBACK_COMPLETE
  aws_ cloudformation describe-stack-events --stack-name pattern1-app-as-published \
    --query 'StackEvents[].ResourceStatusReason' --output text |
    grep -q 'extraneous key \[NAME\] is not permitted'
  aws_ cloudformation delete-stack --stack-name pattern1-app-as-published
  stack_ends_in pattern1-app-as-published GONE
}

service_linked_role() {
  # The lab's first-time ECS step; a second call is refused as IAM does.
  aws_ iam create-service-linked-role --aws-service-name ecs.amazonaws.com >/dev/null
  aws_ iam get-role --role-name AWSServiceRoleForECS --query 'Role.Arn' --output text | grep -q ':role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS'
}

app() {
  local repository
  repository="$(output pattern1-base OutputPattern1AppContainerRepository)"
  sed 's/- NAME: DBSecret/- Name: DBSecret/' "$originals/pattern1-app.yml" >"$state/pattern1-app.yml"
  [ "$(diff "$originals/pattern1-app.yml" "$state/pattern1-app.yml" | grep -c '^[<>]')" = 2 ]
  aws_ cloudformation create-stack --stack-name pattern1-app --template-body "file://$state/pattern1-app.yml" \
    --parameters ParameterKey=BaselineVpcStack,ParameterValue=pattern1-base "ParameterKey=ECRImageURI,ParameterValue=$repository:latest" \
    --capabilities CAPABILITY_NAMED_IAM >/dev/null
  stack_ends_in pattern1-app CREATE_COMPLETE
}

logging() {
  aws_ cloudformation create-stack --stack-name pattern1-logging --template-body "file://$originals/pattern1-logging.yml" \
    --parameters "ParameterKey=AppECSTaskRoleArn,ParameterValue=$(output pattern1-app OutputPattern1ECSTaskRole)" \
    ParameterKey=EmailAddress,ParameterValue=secops@example.com --capabilities CAPABILITY_NAMED_IAM >/dev/null
  stack_ends_in pattern1-logging CREATE_COMPLETE
  # The lab's reader confirms the subscription from the e-mail's link.
  local link
  link="$(curl -fsS "$endpoint/_keywatch/sns/outbox" | python3 -c '
import json, re, sys
for message in json.load(sys.stdin)["messages"]:
    found = re.search(r"(http://\S+Action=ConfirmSubscription\S+)", message["body"])
    if found:
        print(found.group(1))
        break')"
  [ -n "$link" ] && curl -fsS "$link" >/dev/null
}

curl_calls_fire_the_alarm() {
  local url
  url="http://$(output pattern1-app OutputPattern1ApplicationEndpoint)"
  curl -fsS -X POST "$url/encrypt" -H 'Content-Type: application/json' \
    -d '{"Name":"Andy Jassy","Text":"Welcome to ReInvent 2020!"}' | grep -q '"Key"'
  local alarm state=""
  alarm="$(aws_ cloudwatch describe-alarms --query 'MetricAlarms[0].AlarmName' --output text)"
  for _ in $(seq 1 60); do
    curl -sS -X GET "$url/decrypt" -H 'Content-Type: application/json' \
      -d '{"Name":"Andy Jassy","Key":"some-random-false-key"}' >/dev/null
    state="$(aws_ cloudwatch describe-alarms --alarm-names "$alarm" --query 'MetricAlarms[0].StateValue' --output text)"
    [ "$state" = ALARM ] && break
    sleep 1
  done
  [ "$state" = ALARM ] || { echo "alarm $alarm is $state"; return 1; }
  # The e-mail, in CloudWatch's readable form, with the console link.
  for _ in $(seq 1 20); do
    curl -fsS "$endpoint/_keywatch/sns/outbox" | grep -q "You are receiving this email because your Amazon CloudWatch Alarm" && return 0
    sleep 0.5
  done
  echo "no alarm e-mail"
  return 1
}

# The service's task definition, and that of its running task.
service_task_definition() {
  local cluster service
  cluster="$(aws_ ecs list-clusters --query 'clusterArns[0]' --output text)"
  service="$(aws_ ecs list-services --cluster "$cluster" --query 'serviceArns[0]' --output text)"
  aws_ ecs describe-services --cluster "$cluster" --services "$service" --query 'services[0].taskDefinition' --output text
}

running_task_definition() {
  local cluster task
  cluster="$(aws_ ecs list-clusters --query 'clusterArns[0]' --output text)"
  task="$(aws_ ecs list-tasks --cluster "$cluster" --query 'taskArns[0]' --output text)"
  aws_ ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].taskDefinitionArn' --output text
}

# A stack update that changes the task definition (a new image tag) gives
# the service a new revision, and ECS rolls the running task onto it: the
# old revision's task stops, the new one serves at the load balancer.
task_definition_update_rolls_the_task() {
  local before after repository url
  before="$(service_task_definition)"
  [ "$(running_task_definition)" = "$before" ]
  repository="$(output pattern1-base OutputPattern1AppContainerRepository)"
  aws_ cloudformation update-stack --stack-name pattern1-app --use-previous-template \
    --parameters ParameterKey=BaselineVpcStack,UsePreviousValue=true "ParameterKey=ECRImageURI,ParameterValue=$repository:v2" \
    --capabilities CAPABILITY_NAMED_IAM >/dev/null
  stack_ends_in pattern1-app UPDATE_COMPLETE
  after="$(service_task_definition)"
  [ "$after" != "$before" ] || { echo "the service kept $before"; return 1; }
  for _ in $(seq 1 40); do
    [ "$(running_task_definition)" = "$after" ] && break
    sleep 0.5
  done
  [ "$(running_task_definition)" = "$after" ] || { echo "the running task is $(running_task_definition), wanted $after"; return 1; }
  # The runtime really started a task of the new revision (ECS's API above
  # answers from the service's state).
  for _ in $(seq 1 40); do
    grep "sandbox ECS task running" "$state/sandbox.log" | grep -qF "$after" && break
    sleep 0.5
  done
  grep "sandbox ECS task running" "$state/sandbox.log" | grep -qF "$after" ||
    { echo "no task of $after started"; return 1; }
  url="http://$(output pattern1-app OutputPattern1ApplicationEndpoint)"
  for _ in $(seq 1 40); do
    curl -fsS -X POST "$url/encrypt" -H 'Content-Type: application/json' \
      -d '{"Name":"Andy Jassy","Text":"after the roll"}' 2>/dev/null | grep -q '"Key"' && return 0
    sleep 0.5
  done
  echo "the rolled task does not serve at $url"
  return 1
}

teardown() {
  local cluster service bucket
  cluster="$(aws_ ecs list-clusters --query 'clusterArns[0]' --output text)"
  service="$(aws_ ecs list-services --cluster "$cluster" --query 'serviceArns[0]' --output text)"
  aws_ ecs update-service --cluster "$cluster" --service "$service" --desired-count 0 >/dev/null
  aws_ ecs delete-service --cluster "$cluster" --service "$service" >/dev/null
  [ "$(aws_ ecs list-tasks --cluster "$cluster" --query 'length(taskArns)' --output text)" = 0 ]
  aws_ ecs delete-cluster --cluster "$cluster" >/dev/null
  bucket="$(aws_ cloudformation describe-stack-resources --stack-name pattern1-logging \
    --query "StackResources[?ResourceType=='AWS::S3::Bucket'].PhysicalResourceId" --output text)"
  for stack in pattern1-logging pattern1-app pattern1-base; do
    aws_ cloudformation delete-stack --stack-name "$stack"
    stack_ends_in "$stack" GONE
  done
  # What the lab's own teardown forgets: the retained trail bucket and the
  # database's final snapshot.
  aws_ s3 rb "s3://$bucket" --force >/dev/null
  for snapshot in $(aws_ rds describe-db-snapshots --query 'DBSnapshots[].DBSnapshotIdentifier' --output text); do
    aws_ rds delete-db-snapshot --db-snapshot-identifier "$snapshot" >/dev/null
  done
}

nothing_left() {
  [ "$(aws_ cloudformation describe-stacks --query 'length(Stacks)' --output text)" = 0 ] &&
    [ "$(aws_ ecs list-clusters --query 'length(clusterArns)' --output text)" = 0 ] &&
    [ -z "$(aws_ s3 ls)" ] &&
    [ "$(aws_ rds describe-db-snapshots --query 'length(DBSnapshots)' --output text)" = 0 ]
}

step "the original base template deploys unmodified" base
step "the original app template is refused on its NAME: typo, as CloudFormation refuses it" app_unmodified_refused
step "aws iam create-service-linked-role for ECS" service_linked_role
step "the app template with only its typo corrected deploys (Memory 0.5GB, task role by name)" app
step "the original logging template deploys unmodified and its subscription is confirmed" logging
step "the lab's curl calls drive the alarm to ALARM and an e-mail into the outbox" curl_calls_fire_the_alarm
step "a stack update with a new task definition rolls the service's task onto it" task_definition_update_rolls_the_task
step "the lab's teardown from the CLI, plus the logging stack, bucket and snapshot" teardown
step "nothing is left" nothing_left
echo "$passed passed, $failed failed"
