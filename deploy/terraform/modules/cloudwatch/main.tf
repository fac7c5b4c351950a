# CloudWatch alarms mirroring conf/prometheus/alerts.yml: one alarm per rule there, named like the
# alert (the tag Alert carries the exact name; tests/system/test_terraform.py checks the two lists
# agree). vms's Prometheus metrics reach CloudWatch through the CloudWatch agent's Prometheus
# scraping on ECS (Container Insights, namespace var.namespace, dimension ClusterName); the metric
# names are the Prometheus names. CloudWatch has no per-series `for:` over labels, so per-camera
# alerts become fleet-wide alarms on the worst camera (Minimum / Maximum statistics) — the
# camera is named in vmsd's /health and logs, not in the alarm. Each alarm says its PromQL above it.
locals {
  dims     = { ClusterName = var.cluster_name }
  topic    = [var.sns_topic_arn]
  alarm_ok = [var.sns_topic_arn]
}

# StreamOffline: time() - vms_camera_last_frame_timestamp_seconds > 10, for 1m
# -> EPOCH(m) - Minimum(vms_camera_last_frame_timestamp_seconds) > 10 for 2 of 1-minute periods.
resource "aws_cloudwatch_metric_alarm" "stream_offline" {
  alarm_name          = "${var.name}-StreamOffline"
  alarm_description   = "A camera sent no video frame for over a minute (alerts.yml StreamOffline, warning)"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 10
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  metric_query {
    id          = "age"
    expression  = "EPOCH(last) - last"
    label       = "seconds since the oldest camera's last frame"
    return_data = true
  }
  metric_query {
    id = "last"
    metric {
      namespace   = var.namespace
      metric_name = "vms_camera_last_frame_timestamp_seconds"
      dimensions  = local.dims
      period      = 60
      stat        = "Minimum"
    }
  }
  alarm_actions = local.topic
  ok_actions    = local.alarm_ok
  tags          = merge(var.tags, { Alert = "StreamOffline", Severity = "warning" })
}

# CameraOffline: the same expression, for 2m -> 3 of 1-minute periods.
resource "aws_cloudwatch_metric_alarm" "camera_offline" {
  alarm_name          = "${var.name}-CameraOffline"
  alarm_description   = "A camera sent no video frame for over 2 minutes (alerts.yml CameraOffline, critical)"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 10
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  metric_query {
    id          = "age"
    expression  = "EPOCH(last) - last"
    label       = "seconds since the oldest camera's last frame"
    return_data = true
  }
  metric_query {
    id = "last"
    metric {
      namespace   = var.namespace
      metric_name = "vms_camera_last_frame_timestamp_seconds"
      dimensions  = local.dims
      period      = 60
      stat        = "Minimum"
    }
  }
  alarm_actions = local.topic
  ok_actions    = local.alarm_ok
  tags          = merge(var.tags, { Alert = "CameraOffline", Severity = "critical" })
}

# LiveRelayDown: vms_relay_up == 0 and on (instance, camera_id) vms_camera_up == 1, for 1m
# -> Sum(vms_camera_up) - Sum(vms_relay_up) > 0 (cameras delivering but not relayed) for 2 minutes.
resource "aws_cloudwatch_metric_alarm" "live_relay_down" {
  alarm_name          = "${var.name}-LiveRelayDown"
  alarm_description   = "A delivering camera's live relay is not publishing (alerts.yml LiveRelayDown, warning)"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  metric_query {
    id          = "norelay"
    expression  = "up - relay"
    label       = "cameras up without a live relay"
    return_data = true
  }
  metric_query {
    id = "up"
    metric {
      namespace   = var.namespace
      metric_name = "vms_camera_up"
      dimensions  = local.dims
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "relay"
    metric {
      namespace   = var.namespace
      metric_name = "vms_relay_up"
      dimensions  = local.dims
      period      = 60
      stat        = "Sum"
    }
  }
  alarm_actions = local.topic
  ok_actions    = local.alarm_ok
  tags          = merge(var.tags, { Alert = "LiveRelayDown", Severity = "warning" })
}

# HighReconnectRate: increase(vms_camera_reconnect_total{status="success"}[1h]) > 5, for 5m
# -> the agent publishes counters as deltas: Sum over 1 hour > 5 (fleet-wide; per camera it is a
# lower bound of the Prometheus alert's sensitivity).
resource "aws_cloudwatch_metric_alarm" "high_reconnect_rate" {
  alarm_name          = "${var.name}-HighReconnectRate"
  alarm_description   = "Cameras reconnect often (alerts.yml HighReconnectRate, warning)"
  namespace           = var.namespace
  metric_name         = "vms_camera_reconnect_total"
  dimensions          = merge(local.dims, { status = "success" })
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.reconnects_per_hour
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "HighReconnectRate", Severity = "warning" })
}

# StreamFrozen (reason no_frames): increase(vms_stream_frozen_total{reason="no_frames"}[10m]) > 0
# -> Sum over 10 minutes > 0.
resource "aws_cloudwatch_metric_alarm" "stream_frozen" {
  alarm_name          = "${var.name}-StreamFrozen"
  alarm_description   = "A stream froze and was restarted (alerts.yml StreamFrozen, no_frames, warning)"
  namespace           = var.namespace
  metric_name         = "vms_stream_frozen_total"
  dimensions          = merge(local.dims, { reason = "no_frames" })
  statistic           = "Sum"
  period              = 600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "StreamFrozen", Severity = "warning" })
}

# StreamFrozen (reason still): vms_camera_still == 1, for 1m -> Maximum >= 1 for 2 minutes.
resource "aws_cloudwatch_metric_alarm" "stream_frozen_still" {
  alarm_name          = "${var.name}-StreamFrozen-still"
  alarm_description   = "A camera sends a still picture (alerts.yml StreamFrozen, reason still, warning)"
  namespace           = var.namespace
  metric_name         = "vms_camera_still"
  dimensions          = local.dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "StreamFrozen", Severity = "warning" })
}

# AICostAnomaly: sum by camera (increase(vms_rekognition_cost_usd[1d])) > 5, for 10m
# -> Sum of the cost deltas over one day > var.ai_cost_usd_per_day (fleet-wide: set it to the
# per-camera threshold times the cameras, or lower).
resource "aws_cloudwatch_metric_alarm" "ai_cost_anomaly" {
  alarm_name          = "${var.name}-AICostAnomaly"
  alarm_description   = "AI provider spending over the daily threshold (alerts.yml AICostAnomaly, warning)"
  namespace           = var.namespace
  metric_name         = "vms_rekognition_cost_usd"
  dimensions          = local.dims
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.ai_cost_usd_per_day
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "AICostAnomaly", Severity = "warning" })
}

# StreamingServiceDown: up{job=~"vmsd|nginx|mediamtx"} == 0, for 30s
# -> ECS Container Insights RunningTaskCount of the vmsd and nginx services: MIN(...) < 1 in the last
# minute (the smallest period of these metrics).
resource "aws_cloudwatch_metric_alarm" "streaming_service_down" {
  alarm_name          = "${var.name}-StreamingServiceDown"
  alarm_description   = "vmsd or nginx has no running task (alerts.yml StreamingServiceDown, critical)"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "breaching"
  metric_query {
    id          = "running"
    expression  = "MIN([vmsd, nginx])"
    label       = "running tasks of the emptier service"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = toset(["vmsd", "nginx"])
    content {
      id = metric_query.value
      metric {
        namespace   = "ECS/ContainerInsights"
        metric_name = "RunningTaskCount"
        dimensions  = { ClusterName = var.cluster_name, ServiceName = var.service_names[metric_query.value] }
        period      = 60
        stat        = "Minimum"
      }
    }
  }
  alarm_actions = local.topic
  ok_actions    = local.alarm_ok
  tags          = merge(var.tags, { Alert = "StreamingServiceDown", Severity = "critical" })
}

# StorageCritical: vms_storage_used_ratio > 0.9, for 10m -> Maximum > 0.9 for 10 one-minute periods.
# (On EFS the ratio vmsd reports stays low; the alarm matters for sites mounting a sized volume.)
resource "aws_cloudwatch_metric_alarm" "storage_critical" {
  alarm_name          = "${var.name}-StorageCritical"
  alarm_description   = "Recordings storage over 90 % used (alerts.yml StorageCritical, critical)"
  namespace           = var.namespace
  metric_name         = "vms_storage_used_ratio"
  dimensions          = local.dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 10
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0.9
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "StorageCritical", Severity = "critical" })
}

# KafkaSpoolGrowing: vms_events_spool_bytes > 0 and delta(vms_events_spool_bytes[10m]) > 0, for 10m
# -> IF(spool > 0 AND DIFF(spool) > 0, 1, 0) on 10-minute maxima, two periods in a row.
resource "aws_cloudwatch_metric_alarm" "kafka_spool_growing" {
  alarm_name          = "${var.name}-KafkaSpoolGrowing"
  alarm_description   = "vmsd's Kafka event spool keeps growing (alerts.yml KafkaSpoolGrowing, warning)"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  metric_query {
    id          = "growing"
    expression  = "IF(spool > 0 AND DIFF(spool) > 0, 1, 0)"
    label       = "spool non-empty and growing"
    return_data = true
  }
  metric_query {
    id = "spool"
    metric {
      namespace   = var.namespace
      metric_name = "vms_events_spool_bytes"
      dimensions  = local.dims
      period      = 600
      stat        = "Maximum"
    }
  }
  alarm_actions = local.topic
  ok_actions    = local.alarm_ok
  tags          = merge(var.tags, { Alert = "KafkaSpoolGrowing", Severity = "warning" })
}

# ClusterCamerasUnrecorded: max by (job) (vms_cluster_cameras_unowned) > 0, for 1m
# -> Maximum(vms_cluster_cameras_unowned) > 0 for 2 of 1-minute periods (every node reports the count).
resource "aws_cloudwatch_metric_alarm" "cluster_cameras_unrecorded" {
  alarm_name          = "${var.name}-ClusterCamerasUnrecorded"
  alarm_description   = "Cameras no vmsd node records (alerts.yml ClusterCamerasUnrecorded, critical)"
  namespace           = var.namespace
  metric_name         = "vms_cluster_cameras_unowned"
  dimensions          = local.dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic
  ok_actions          = local.alarm_ok
  tags                = merge(var.tags, { Alert = "ClusterCamerasUnrecorded", Severity = "critical" })
}
