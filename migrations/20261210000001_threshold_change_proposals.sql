-- The settings a threshold change asked for: the alarm as PutMetricAlarm
-- takes it (the domain's MetricAlarm, JSON). The stack watcher checks a
-- change-set change against DescribeAlarms with it once CloudFormation has
-- finished the stack update. NULL for detection changes (stack parameters
-- only) and for rows recorded before this column existed.
ALTER TABLE threshold_changes ADD COLUMN proposed TEXT;
