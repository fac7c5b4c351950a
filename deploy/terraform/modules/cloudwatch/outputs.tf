output "alarm_arns" {
  value = [
    aws_cloudwatch_metric_alarm.stream_offline.arn,
    aws_cloudwatch_metric_alarm.camera_offline.arn,
    aws_cloudwatch_metric_alarm.live_relay_down.arn,
    aws_cloudwatch_metric_alarm.high_reconnect_rate.arn,
    aws_cloudwatch_metric_alarm.stream_frozen.arn,
    aws_cloudwatch_metric_alarm.stream_frozen_still.arn,
    aws_cloudwatch_metric_alarm.ai_cost_anomaly.arn,
    aws_cloudwatch_metric_alarm.streaming_service_down.arn,
    aws_cloudwatch_metric_alarm.storage_critical.arn,
    aws_cloudwatch_metric_alarm.kafka_spool_growing.arn,
  ]
}
