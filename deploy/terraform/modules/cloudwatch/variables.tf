variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "cluster_name" {
  description = "ECS cluster (ClusterName dimension)"
  type        = string
}

variable "service_names" {
  description = "ECS service name by role (vmsd, nginx)"
  type        = map(string)
}

variable "sns_topic_arn" {
  type = string
}

variable "namespace" {
  description = "Namespace the CloudWatch agent publishes vms's Prometheus metrics in"
  type        = string
  default     = "ECS/ContainerInsights/Prometheus"
}

variable "reconnects_per_hour" {
  type    = number
  default = 5
}

variable "ai_cost_usd_per_day" {
  type    = number
  default = 5
}
